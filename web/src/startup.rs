//! Builds the application: database, state, routes and middleware, bound to a listener whose
//! port is known before serving (tests bind port 0).

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use app_core::state::{AppState, Shared};
use axum::{
    Router, middleware,
    routing::{get, post},
    serve::ListenerExt,
};
use backend::{
    Config, Db,
    admin::{ClerkWrites, cache::AdminCache},
    auth::{Authenticator, UserDirectory},
    clerk::{TokenVerifier, api::ClerkApi},
    devmode::DevClerk,
    invalidation_bus::InvalidationBus,
    machine::MachineVerifier,
    mirror::MirrorPolicy,
    reconcile::Reconciler,
    session_store::{self, cache::SessionCache},
    webhooks::{WebhookHooks, WebhookProcessor},
};
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::{api, auth, csrf, health, security_headers, server_fn_status, static_files, webhook};

/// The site's pages, handed in by the binary: their routes and the document around them. They
/// live in the `app` crate, which this one does not depend on, so an edit to a page leaves this
/// crate compiled (see docs/first-hour.md).
#[derive(Clone, Copy)]
pub struct Site {
    /// `leptos_axum::generate_route_list(App)`.
    pub routes: fn() -> Vec<AxumRouteListing>,
    /// The HTML shell around the app (`app::shell`).
    pub shell: fn(LeptosOptions) -> AnyView,
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    invalidations: Arc<InvalidationBus>,
    reconciler: Option<Reconciler>,
    metrics: Option<TcpListener>,
}

impl Application {
    /// Connects, migrates, and binds `leptos.site_addr`, but does not serve yet.
    pub async fn build(config: Config, leptos: LeptosOptions, site: Site) -> anyhow::Result<Self> {
        Self::build_with_hooks(config, leptos, site, crate::hooks::registered()).await
    }

    /// [`Application::build`] with the given webhook hooks.
    pub async fn build_with_hooks(
        config: Config,
        leptos: LeptosOptions,
        site: Site,
        hooks: WebhookHooks,
    ) -> anyhow::Result<Self> {
        tracing::info!(config = %config, "starting");
        config.check_can_serve()?;
        for warning in config.warnings() {
            tracing::warn!("{warning}");
        }

        let db = Db::connect(&config.database_url).await.context("connecting to the database")?;
        db.migrate().await.context("applying migrations")?;

        let dev = if config.dev_mode() {
            tracing::warn!("dev mode: no Clerk keys are set, so sign-in is simulated locally (debug builds only)");
            let ttl = config.dev_token_ttl.as_secs() as i64;
            Some(Arc::new(
                DevClerk::load_or_create(&config.dev_key_file, ttl)?.with_billing(config.dev_billing.clone()),
            ))
        } else {
            None
        };
        let admin_cache = AdminCache::new(config.admin_cache_ttl);
        let (auth, api) = authenticator(&config, &db, dev.as_deref())?;
        let auth = Arc::new(auth);
        let ended = auth.load_ended_sessions(&db).await.context("loading ended Clerk sessions")?;
        tracing::debug!(ended, "loaded ended Clerk sessions");
        let secret = config.clerk_webhook_signing_secret.as_ref().map(|s| s.expose_secret().to_owned());
        let policy = MirrorPolicy::from_config(&config);
        let sessions = Arc::new(SessionCache::new(config.session_cache_ttl));
        let invalidations = InvalidationBus::new(
            db.clone(),
            vec![
                // Every cache of mirrored data subscribes: each forgets what an invalidation names.
                Arc::clone(&auth) as Arc<dyn backend::invalidation::Forget>,
                Arc::clone(&admin_cache) as _,
                Arc::clone(&sessions) as _,
            ],
        );
        let clerk_writes = if dev.is_some() { ClerkWrites::DevLocal } else { ClerkWrites::Api(api.clone()) };
        let webhooks =
            WebhookProcessor::new(db.clone(), secret.as_deref(), Arc::clone(&invalidations), api, policy, hooks)?;
        let state = AppState::new(Shared {
            leptos_options: leptos,
            readiness: Arc::new(backend::db::Readiness::new(db.clone())),
            db,
            config: Arc::new(config),
            auth,
            webhooks: Arc::new(webhooks),
            invalidations: Arc::clone(&invalidations),
            admin_cache,
            sessions,
            clerk_writes,
            dev,
        });
        let addr = state.leptos_options.site_addr;
        let listener = TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        if let Some(warning) = listener.local_addr().ok().and_then(|a| state.config.authorized_parties_warning(a)) {
            tracing::warn!("{warning}");
        }
        let metrics = match state.config.metrics_addr {
            Some(addr) => Some(crate::metrics_endpoint::bind(addr).await?),
            None => None,
        };
        let router = router(state.clone(), site);
        let reconciler = reconciler(&state, &invalidations);
        Ok(Self { listener, router, state, invalidations, reconciler, metrics })
    }

    /// The database handle the app uses (shared pool), for tests and tooling.
    pub fn db(&self) -> Db {
        self.state.db.clone()
    }

    /// The authenticator (caches included), for tests and tooling.
    pub fn authenticator(&self) -> Arc<Authenticator> {
        Arc::clone(&self.state.auth)
    }

    /// Cross-instance invalidation (its listener's backend pid, for tests and operators).
    pub fn invalidations(&self) -> Arc<InvalidationBus> {
        Arc::clone(&self.invalidations)
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
        spawn_pruning(self.state.db.clone());
        spawn_search_indexing(self.state.db.clone());
        let reconciling = self.reconciler.map(Reconciler::spawn);
        let pushing = username_pusher(&self.state);
        let listener_task = self.invalidations.spawn_listener();
        let metrics = self.metrics.map(|listener| {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!("metrics on http://{addr}/metrics");
            }
            tokio::spawn(crate::metrics_endpoint::serve(listener, self.state.clone()))
        });
        // Small responses (static files, JSON) must not wait for Nagle's algorithm.
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        // The peer address is the client's IP for login throttling (see `auth::client_ip`).
        let service = self.router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, service).with_graceful_shutdown(shutdown).await?;
        for task in [listener_task, reconciling, pushing, metrics].into_iter().flatten() {
            task.abort();
        }
        self.state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

fn authenticator(config: &Config, db: &Db, dev: Option<&DevClerk>) -> anyhow::Result<(Authenticator, ClerkApi)> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("leptos-clerk-starter/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")?;
    let verifier = match dev {
        // Dev tokens take the same verification path as a networkless CLERK_JWT_KEY.
        Some(dev) => TokenVerifier::for_pem(dev.public_pem(), config)?,
        None => TokenVerifier::from_config(config, http.clone())?,
    };
    let api = ClerkApi::new(http, config.clerk_api_url.clone(), config.clerk_secret_key.clone());
    let directory = UserDirectory::new(
        db.clone(),
        api.clone(),
        MirrorPolicy::from_config(config),
        config.user_cache_ttl,
        config.org_cache_ttl,
    );
    let machines = MachineVerifier::new(api.clone(), config.machine_token_cache_ttl, config.machine_token_cache_size);
    let auth =
        Authenticator::new(verifier, directory, machines, config.session_revalidation, config.allow_pending_sessions);
    Ok((auth, api))
}

fn router(state: AppState, site: Site) -> Router {
    let routes = (site.routes)();
    let leptos_options = state.leptos_options.clone();
    let session_layer = session_store::layer(&state.db, Arc::clone(&state.sessions), state.config.cookie_secure);

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        // Leptos provides the state itself (`AppState` in context).
        .leptos_routes_with_context(&state, routes, auth::provide_request_context, move || {
            (site.shell)(leptos_options.clone())
        })
        .route("/api/me", get(api::me))
        .route("/api/whoami", get(api::whoami))
        .route("/admin/users/{id}/export", get(api::export_user))
        .route("/webhooks/clerk", post(webhook::clerk))
        .fallback_service(static_files::service(&state, site.shell))
        .layer(middleware::from_fn(server_fn_status::app_error_status))
        .layer(middleware::from_fn(auth::redirect_anonymous_pages))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(session_layer)
        .layer(middleware::from_fn(csrf::refuse_cross_site_writes))
        .layer(middleware::from_fn_with_state(state.clone(), security_headers::security_headers))
        .layer(middleware::from_fn(crate::observe::observe))
        .with_state(state)
}

/// The background sync, when `CLERK_RECONCILE_INTERVAL` is set and Clerk's API is reachable.
fn reconciler(state: &AppState, invalidations: &Arc<InvalidationBus>) -> Option<Reconciler> {
    let interval = state.config.reconcile_interval?;
    let ClerkWrites::Api(api) = &state.clerk_writes else { return None };
    state.config.clerk_secret_key.as_ref()?;
    tracing::info!(interval_secs = interval.as_secs(), "reconciliation is on");
    Some(Reconciler {
        db: state.db.clone(),
        api: api.clone(),
        policy: MirrorPolicy::from_config(&state.config),
        interval,
        max_prune_percent: state.config.prune_max_percent,
        invalidations: Arc::clone(invalidations),
        instance: backend::reconcile::instance_name(),
    })
}

/// With generated usernames on, writes them to Clerk in the background.
fn username_pusher(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let prefix = MirrorPolicy::from_config(&state.config).username_prefix?;
    let ClerkWrites::Api(api) = &state.clerk_writes else { return None };
    state.config.clerk_secret_key.as_ref()?;
    Some(backend::mirror::username_push::spawn(state.db.clone(), api.clone(), prefix))
}

/// Hourly: expired sessions, ended Clerk sessions past any token's life, login attempts older
/// than a day, and webhook log rows past their retention (7 days; Svix retries for about a day,
/// and duplicates must be caught for at least 72 hours). Plain DELETEs by age, so every instance
/// may run it.
fn spawn_pruning(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(err) = backend::db::session_index::delete_expired(&db).await {
                tracing::warn!(error = %err, "pruning expired sessions failed");
            }
            let attempts_cutoff = backend::db::now() - chrono::Duration::days(1);
            if let Err(err) = backend::db::login_attempts::prune(&db, attempts_cutoff).await {
                tracing::warn!(error = %err, "pruning login attempts failed");
            }
            if let Err(err) = backend::db::ended_sessions::prune(&db).await {
                tracing::warn!(error = %err, "pruning ended Clerk sessions failed");
            }
            match backend::db::webhook_events::prune(&db, chrono::Duration::days(7)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "pruned old webhook events"),
                Err(err) => tracing::warn!(error = %err, "pruning webhook events failed"),
            }
        }
    });
}

/// SQLite only: every 5 s, indexes for search the users that writes outside a transaction changed
/// (transactions index their own changes as they commit; searches find the rest meanwhile).
fn spawn_search_indexing(db: Db) {
    if !matches!(db, Db::Sqlite(_)) {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = backend::db::search_index::catch_up(&db).await {
                tracing::warn!(error = %err, "indexing changed users for search failed");
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
