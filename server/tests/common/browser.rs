//! A browser's view of the UI for the server-function tests: one session cookie,
//! same-origin requests, redirects looked at rather than followed.

use escalator_engine::demo::DEMO_PASSWORD;
use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::TestApp;

/// A signed-in (or not) browser.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    client: reqwest::Client,
    pub cookie: Option<String>,
}

impl<'a> Browser<'a> {
    /// A browser without a session.
    pub fn new(app: &'a TestApp) -> Self {
        let client = reqwest::Client::builder()
            .no_proxy()
            // A page that never answers fails the test instead of hanging the suite.
            .timeout(std::time::Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Self {
            app,
            client,
            cookie: None,
        }
    }

    /// Signs a demo user in with the demo password.
    pub async fn sign_in(app: &'a TestApp, email: &str) -> Browser<'a> {
        Self::sign_in_with(app, email, DEMO_PASSWORD).await
    }

    /// Signs a user in; asserts it worked.
    pub async fn sign_in_with(app: &'a TestApp, email: &str, password: &str) -> Browser<'a> {
        let mut browser = Browser::new(app);
        let (status, body) = browser.call("login", &[("email", email), ("password", password)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(browser.cookie.is_some(), "a session cookie is set");
        browser
    }

    /// The id of the browser's session, as the `sessions` table keys it.
    pub fn session_id(&self) -> String {
        let cookie = self.cookie.as_deref().expect("a session cookie");
        cookie.trim_start_matches("escalator_session=").to_string()
    }

    /// A request without the browser's Origin header or cookie.
    pub fn bare(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.app.address))
    }

    /// A same-origin request with the session cookie.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.bare(method, path).header(ORIGIN, &self.app.address);
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        request
    }

    /// Keeps a new session cookie; the status and the body as JSON (a string if not JSON).
    async fn finish(&mut self, response: reqwest::Response) -> (StatusCode, Value) {
        if let Some(cookie) = response.headers().get(SET_COOKIE) {
            let cookie = cookie.to_str().unwrap().split(';').next().unwrap().to_string();
            self.cookie = Some(cookie);
        }
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Calls a server function with form fields, as the pages' forms do.
    pub async fn call(&mut self, name: &str, fields: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .request(Method::POST, &format!("/ui/fn/{name}"))
            .form(fields)
            .send()
            .await
            .expect("call the server function");
        self.finish(response).await
    }

    /// Calls a server function that takes JSON (the chain editor).
    pub async fn call_json(&mut self, name: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .request(Method::POST, &format!("/ui/fn/{name}"))
            .json(&body)
            .send()
            .await
            .expect("call the server function");
        self.finish(response).await
    }

    /// Loads a page as a browser navigation does.
    pub async fn page(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path)
            .header("accept", "text/html")
            .send()
            .await
            .expect("load the page")
    }

    /// Loads a page that must answer 200; its HTML.
    pub async fn page_html(&self, path: &str) -> String {
        let response = self.page(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.unwrap()
    }
}
