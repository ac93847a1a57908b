//! SQLite on a full disk (a small tmpfs of its own): writes answer 503 and write nothing
//! half-way, reads go on, readiness says no, and once space returns writes succeed again within
//! 5 s, without a restart. Needs root for `mount` (as CI has); elsewhere it says it was skipped.

use crate::common;

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use backend::on_pool;
use common::{TestApp, eventually};
use fake_clerk::{FakeClerk, TEST_WEBHOOK_SECRET, session_claims};
use reqwest::StatusCode;
use serde_json::json;

/// A tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("clerk-starter-full-disk-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).ok()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&dir)
            .status()
            .ok()?;
        status.success().then_some(Self { dir })
    }

    /// Writes a file until the disk refuses another byte.
    fn fill(&self) -> PathBuf {
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        let chunk = vec![0u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let small = [0u8; 512];
        while file.write_all(&small).is_ok() {}
        let _ = file.flush();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn user(i: usize) -> serde_json::Value {
    let mut user = fake_clerk::user(&format!("user_{i:05}"), &format!("u{i}@example.com"), "Filling", "The Disk");
    // Big enough that a few deliveries need new pages.
    user["public_metadata"] = json!({ "notes": "x".repeat(3000) });
    user
}

async fn stored(app: &TestApp, ids: &[String]) -> usize {
    let mut found = 0;
    for id in ids {
        if backend::db::users::find_by_clerk_id(&app.db, &id.as_str().into()).await.ok().flatten().is_some() {
            found += 1;
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_answers_503_then_recovers_within_5_s_of_space_returning() {
    let Some(disk) = SmallDisk::mount(16) else {
        eprintln!("SKIPPED sqlite_on_a_full_disk: `mount -t tmpfs` needs root");
        return;
    };
    let clerk = FakeClerk::start().await;
    clerk.put_user(fake_clerk::user("user_reader", "reader@example.com", "Rea", "Der"));
    let url = format!("sqlite://{}", Path::new(&disk.dir).join("app.db").display());
    let api_url = clerk.api_url();
    let env = [
        ("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET),
        ("CLERK_SECRET_KEY", FakeClerk::SECRET_KEY),
        ("CLERK_API_URL", api_url.as_str()),
    ];
    let app = TestApp::spawn_on(&url, &env).await;
    let token = clerk.mint(&session_claims("user_reader"));
    assert_eq!(app.me_bearer(&token).await.status(), StatusCode::OK, "the reader is provisioned");

    let filler = disk.fill();
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    for i in 0..400 {
        let user = user(i);
        let id = user["id"].as_str().unwrap_or_default().to_owned();
        match app.deliver("user.created", &user).await.0 {
            StatusCode::OK => accepted.push(id),
            StatusCode::SERVICE_UNAVAILABLE => {
                refused.push(id);
                if refused.len() >= 3 {
                    break;
                }
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(!refused.is_empty(), "the disk filled up ({} deliveries accepted)", accepted.len());
    assert_eq!(app.get("/readyz").await.status(), StatusCode::SERVICE_UNAVAILABLE, "not ready while writes fail");
    assert_eq!(app.me_bearer(&token).await.status(), StatusCode::OK, "reads go on");
    assert_eq!(stored(&app, &accepted).await, accepted.len(), "every acknowledged delivery is stored");
    assert_eq!(stored(&app, &refused).await, 0, "a refused delivery wrote nothing");

    std::fs::remove_file(&filler).expect("space returns");
    let freed = Instant::now();
    let retry = user(9999);
    let recovered =
        eventually(Duration::from_secs(5), || async { app.deliver("user.created", &retry).await.0 == StatusCode::OK })
            .await;
    assert!(recovered, "writes recover without a restart");
    let ready =
        eventually(Duration::from_secs(5), || async { app.get("/readyz").await.status() == StatusCode::OK }).await;
    assert!(ready, "ready again");
    let recovered_after = freed.elapsed();
    // Svix redelivers what was refused: each is applied once space is back.
    for id in &refused {
        let i: usize = id.trim_start_matches("user_").parse().expect("an index");
        assert_eq!(app.deliver("user.created", &user(i)).await.0, StatusCode::OK);
    }
    assert_eq!(stored(&app, &refused).await, refused.len());
    let count: i64 = on_pool!(&app.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)
        .expect("count");
    assert_eq!(count as usize, accepted.len() + refused.len() + 2, "nothing half-written, nothing lost");
    eprintln!(
        "CHAOS case=c disk=16MB accepted_on_full_disk={} refused_503={} lost=0 half_written=0 recovered_after_ms={}",
        accepted.len(),
        refused.len(),
        recovered_after.as_millis()
    );
    drop(app);
}
