//! The harness of the API tests: a fresh database, the engine built by the same code as
//! the binary, the whole router on `127.0.0.1:0`, and a client with tokens of demo users.

#![allow(dead_code)] // not every test binary uses every helper

pub mod browser;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use escalator_engine::Escalator;
use escalator_storage::testing::TestDb;
use escalator_storage::{AuditFilter, Backend, WorkflowFilter};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use server::http::AppState;

#[allow(unused_imports)] // the API tests use no browser
pub use browser::Browser;

/// Runs each case once per backend, as `<case>::sqlite` and `<case>::postgres`, each on a
/// fresh app (`#[macro_use] mod common;` in the test file).
#[allow(unused_macros)] // each test file uses one of the two
macro_rules! on_both {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                super::$case($crate::common::spawn_app(escalator_storage::Backend::Sqlite).await).await;
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                super::$case($crate::common::spawn_app(escalator_storage::Backend::Postgres).await).await;
            }
        }
    )*};
}

/// Runs each case once per backend like [`on_both!`], one case of this test binary at a
/// time: for the suites that render pages. Two Leptos applications serving pages at once
/// in one process (each test runs its own; production runs one) now and then left a
/// streamed page unfinished (about once in 30 runs, under CPU load; never serially).
#[allow(unused_macros)]
macro_rules! on_both_one_at_a_time {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                let _turn = $crate::common::one_at_a_time().await;
                super::$case($crate::common::spawn_app(escalator_storage::Backend::Sqlite).await).await;
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                let _turn = $crate::common::one_at_a_time().await;
                super::$case($crate::common::spawn_app(escalator_storage::Backend::Postgres).await).await;
            }
        }
    )*};
}

/// The turn of one test case in this process (see [`on_both_one_at_a_time!`]).
pub async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// Demo users (engine/src/demo.rs).
pub const ADMIN: &str = "admin@acme.example";
pub const FINANCE_HEAD: &str = "dana.head@acme.example";
pub const FINANCE_APPROVER: &str = "alice@acme.example";
pub const FINANCE_MANAGER: &str = "mike.manager@acme.example";
pub const HR_APPROVER: &str = "hank@acme.example";
pub const FINANCE_VIEWER: &str = "ivan@acme.example";
pub const COO: &str = "olivia.coo@acme.example";

/// A running server on a fresh database loaded with the demo organisation.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub client: reqwest::Client,
    pub escalator: Escalator,
    pub scheduler_running: Arc<AtomicBool>,
    /// Tokens of demo users.
    pub admin: String,
    pub head: String,
    pub approver: String,
    pub hr_approver: String,
    pub viewer: String,
    /// The demo's 24 h policy and "department head, then COO" chain.
    pub policy_id: i64,
    pub chain_id: i64,
    server: tokio::task::JoinHandle<()>,
    _db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts the application on `backend` the way `escalator serve` does, minus the scheduler.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with settings changed by `configure` (its public URL is the app's address).
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new(backend).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let addr = listener.local_addr().expect("local address");
    let mut config = Config {
        database_url: db.url.clone(),
        public_url: Some(format!("http://{addr}")),
        ..Config::default()
    };
    configure(&mut config);
    let escalator = server::serve::engine(&config).await.expect("build the engine");
    escalator.load_demo().await.expect("load the demo data");

    let scheduler_running = Arc::new(AtomicBool::new(false));
    let state = AppState {
        escalator: escalator.clone(),
        scheduler_running: scheduler_running.clone(),
    };
    let site_root = server::ui::site_root(None);
    let sessions = server::ui::SessionSettings {
        secure: false,
        idle_minutes: 60,
        public_origin: None,
    };
    let router = server::serve::app(state, &site_root, addr, &sessions);
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serve");
    });

    let policy_id = escalator.store().policies().await.unwrap()[0].id;
    let chain_id = escalator.store().chains().await.unwrap()[0].id;
    let client = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
    let mut app = TestApp {
        address: format!("http://{addr}"),
        client,
        escalator,
        scheduler_running,
        admin: String::new(),
        head: String::new(),
        approver: String::new(),
        hr_approver: String::new(),
        viewer: String::new(),
        policy_id,
        chain_id,
        server,
        _db: db,
    };
    app.admin = app.token(ADMIN).await;
    app.head = app.token(FINANCE_HEAD).await;
    app.approver = app.token(FINANCE_APPROVER).await;
    app.hr_approver = app.token(HR_APPROVER).await;
    app.viewer = app.token(FINANCE_VIEWER).await;
    app
}

/// What the store holds, to show that a rejected request changed nothing.
#[derive(Debug, PartialEq, Eq)]
pub struct Counts {
    pub workflows: usize,
    pub audit: usize,
    pub policies: usize,
    pub chains: usize,
    pub departments: usize,
    pub users: usize,
}

impl TestApp {
    /// A new API token of a directory user.
    pub async fn token(&self, email: &str) -> String {
        self.escalator
            .create_token(email, "api test")
            .await
            .expect("create a token")
            .0
    }

    /// A request to `path` (absolute, e.g. `/api/v1/workflows`), with a bearer token if given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, format!("{}{path}", self.address));
        match token {
            Some(t) => builder.bearer_auth(t),
            None => builder,
        }
    }

    /// Sends a request; the status and the body as JSON (a JSON string if it is not JSON).
    pub async fn send(&self, request: RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.expect("send the request");
        let status = response.status();
        let text = response.text().await.expect("read the body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(self.request(Method::GET, path, Some(token))).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::POST, path, Some(token)).json(&body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::PUT, path, Some(token)).json(&body))
            .await
    }

    /// A raw body with `Content-Type: application/json`.
    pub async fn send_raw(&self, method: Method, path: &str, token: &str, body: &str) -> (StatusCode, Value) {
        let request = self
            .request(method, path, Some(token))
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(request).await
    }

    /// The id of a workflow by its external id.
    pub async fn workflow_id(&self, external_id: &str) -> i64 {
        self.escalator
            .store()
            .workflow_by_external_id(external_id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no workflow {external_id}"))
            .id
    }

    /// Row counts straight from the store.
    pub async fn counts(&self) -> Counts {
        let store = self.escalator.store();
        let workflows = store
            .workflows(&WorkflowFilter {
                limit: 100_000,
                ..WorkflowFilter::default()
            })
            .await
            .unwrap()
            .len();
        let audit = store
            .audit_entries(&AuditFilter {
                limit: 100_000,
                ..AuditFilter::default()
            })
            .await
            .unwrap()
            .len();
        Counts {
            workflows,
            audit,
            policies: store.policies().await.unwrap().len(),
            chains: store.chains().await.unwrap().len(),
            departments: store.departments().await.unwrap().len(),
            users: store.users().await.unwrap().len(),
        }
    }

    /// A valid create body for a finance workflow assigned to Alice.
    pub fn new_workflow(&self, external_id: &str) -> Value {
        json!({
            "external_id": external_id,
            "workflow_type": "purchase",
            "title": "Standing desk",
            "stage": "Manager Approval",
            "department": "finance",
            "initiator": FINANCE_VIEWER,
            "assignee": FINANCE_APPROVER,
            "policy_id": self.policy_id,
            "chain_id": self.chain_id,
        })
    }

    /// Creates a workflow as the admin; its JSON.
    pub async fn create_workflow(&self, body: Value) -> Value {
        let (status, created) = self.post("/api/v1/workflows", &self.admin, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created
    }

    pub fn scheduler_is_running(&self, running: bool) {
        self.scheduler_running.store(running, Ordering::Relaxed);
    }
}

/// Asserts an error response: its status, `error.code` and `error.field`.
#[track_caller]
pub fn assert_error(response: &(StatusCode, Value), status: StatusCode, code: &str, field: Option<&str>) {
    let (actual, body) = response;
    assert_eq!(*actual, status, "status of {body}");
    assert_eq!(body["error"]["code"], json!(code), "code of {body}");
    assert_eq!(body["error"]["field"], json!(field), "field of {body}");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message of {body}"
    );
}

/// The ids of a page's items.
pub fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// A field of each of a page's items.
pub fn field<'a>(page: &'a Value, name: &str) -> Vec<&'a Value> {
    page["items"].as_array().unwrap().iter().map(|i| &i[name]).collect()
}
