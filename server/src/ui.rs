//! The Leptos UI mounted on axum: server-rendered pages, their server functions (which
//! get the engine from the Leptos context), and the static files of the built site.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use escalator_engine::Escalator;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// Where the built site (`pkg/` with the WASM bundle and CSS) is: the configured root,
/// else `site/` beside the binary's folder (cargo-leptos puts the binary in
/// `target/<profile>/` and the site in `target/site/`), else `target/site`.
pub fn site_root(configured: Option<&Path>) -> PathBuf {
    if let Some(root) = configured {
        return root.to_path_buf();
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("site")))
        .filter(|p| p.join("pkg").is_dir())
        .unwrap_or_else(|| PathBuf::from("target/site"))
}

/// Leptos' options, built here rather than from cargo-leptos' build-time environment so
/// the binary runs the same however it was started.
pub fn options(site_root: &Path, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("escalator")
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// The UI routes; every server function sees the engine through `use_context::<Escalator>()`.
pub fn router(options: LeptosOptions, escalator: Escalator) -> Router {
    let routes = generate_route_list(app::App);
    let context = move || provide_context(escalator.clone());
    Router::new()
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(app::shell))
        .with_state(options)
}
