//! Builds the application: database, state, routes and middleware, bound to a listener whose
//! port is known before serving (tests bind port 0).

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use app::{App, shell, state::AppState};
use axum::{Router, middleware, routing::get};
use backend::{
    Config, Db,
    auth::{Auth, Authenticator, UserDirectory},
    clerk::{TokenVerifier, api::ClerkApi},
    sessions,
};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::{api, auth, health};

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    /// Connects, migrates, and binds `leptos.site_addr`, but does not serve yet.
    pub async fn build(config: Config, leptos: LeptosOptions) -> anyhow::Result<Self> {
        tracing::info!(config = %config, "starting");
        for warning in config.warnings() {
            tracing::warn!("{warning}");
        }

        let db = Db::connect(&config.database_url).await.context("connecting to the database")?;
        db.migrate().await.context("applying migrations")?;

        let listener =
            TcpListener::bind(leptos.site_addr).await.with_context(|| format!("binding {}", leptos.site_addr))?;

        let auth = authenticator(&config, &db)?;
        let state = AppState { leptos_options: leptos, db, config: Arc::new(config), auth: Arc::new(auth) };
        let router = router(state.clone());
        Ok(Self { listener, router, state })
    }

    /// The database handle the app uses (shared pool), for tests and tooling.
    pub fn db(&self) -> Db {
        self.state.db.clone()
    }

    /// The authenticator (caches included), for tests and tooling.
    pub fn authenticator(&self) -> Arc<Authenticator> {
        Arc::clone(&self.state.auth)
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` resolves, then lets requests in flight finish and closes the pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let addr = self.listener.local_addr()?;
        tracing::info!("listening on http://{addr}");
        spawn_session_pruning(self.state.db.clone());
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await?;
        self.state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

fn authenticator(config: &Config, db: &Db) -> anyhow::Result<Authenticator> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("leptos-clerk-starter/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")?;
    let verifier = TokenVerifier::from_config(config, http.clone()).map_err(anyhow::Error::msg)?;
    let api = ClerkApi::new(http, config.clerk_api_url.clone(), config.clerk_secret_key.clone());
    let directory = UserDirectory::new(db.clone(), api, config.user_cache_ttl, config.org_cache_ttl);
    Ok(Authenticator::new(verifier, directory, config.session_revalidation))
}

fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let context_state = state.clone();
    let session_layer = sessions::layer(&state.db, state.config.production);

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(context_state.clone());
                // The auth middleware's verdict, for guards in SSR and server functions alike.
                if let Some(parts) = use_context::<http::request::Parts>() {
                    provide_context(parts.extensions.get::<Auth>().cloned().unwrap_or(Auth::Anonymous));
                }
            },
            move || shell(leptos_options.clone()),
        )
        .route("/api/me", get(api::me))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(session_layer)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

fn spawn_session_pruning(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(err) = sessions::delete_expired(&db).await {
                tracing::warn!(error = %err, "pruning expired sessions failed");
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
