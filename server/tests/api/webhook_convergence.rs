//! Convergence: a random history of Clerk events, delivered shuffled and with duplicates, leaves
//! the mirror equal to Clerk's final state.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use backend::on_pool;
use common::TestApp;
use fake_clerk::{FakeClerk, TEST_WEBHOOK_SECRET, webhook};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Backend;

testkit::each_backend!(backend: shuffled_duplicated_history_converges_to_clerks_final_state);

/// xorshift64*: deterministic, so a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Default)]
struct Model {
    clock: i64,
    users: BTreeMap<String, Option<Value>>,
    orgs: BTreeMap<String, Option<Value>>,
    memberships: BTreeMap<(String, String), Value>,
    next_membership: u32,
    events: Vec<(String, Value)>,
}

impl Model {
    fn tick(&mut self) -> i64 {
        self.clock += 1_000;
        self.clock
    }

    fn live(map: &BTreeMap<String, Option<Value>>) -> Vec<String> {
        map.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.clone()).collect()
    }

    fn step(&mut self, rng: &mut Rng) {
        match rng.below(9) {
            0 if self.users.len() < 30 => {
                let id = format!("user_{:02}", self.users.len());
                let mut user = fake_clerk::user(&id, &format!("{id}@example.com"), "First", "Last");
                user["updated_at"] = json!(self.tick());
                self.users.insert(id, Some(user.clone()));
                self.events.push(("user.created".into(), user));
            }
            1 | 2 => {
                let live = Self::live(&self.users);
                if live.is_empty() {
                    return;
                }
                let id = live[rng.below(live.len())].clone();
                let at = self.tick();
                let Some(Some(user)) = self.users.get_mut(&id) else { return };
                user["first_name"] = json!(format!("First{at}"));
                user["banned"] = json!(rng.below(5) == 0);
                user["updated_at"] = json!(at);
                let user = user.clone();
                self.events.push(("user.updated".into(), user));
            }
            3 if rng.below(3) == 0 => {
                let live = Self::live(&self.users);
                if live.is_empty() {
                    return;
                }
                let id = live[rng.below(live.len())].clone();
                self.users.insert(id.clone(), None);
                self.memberships.retain(|(_, u), _| *u != id);
                self.events.push(("user.deleted".into(), json!({ "object": "user", "id": id, "deleted": true })));
            }
            4 if self.orgs.len() < 6 => {
                let id = format!("org_{}", self.orgs.len());
                let mut org = fake_clerk::organization(&id, &format!("Org {id}"), &id.replace('_', "-"));
                org["updated_at"] = json!(self.tick());
                self.orgs.insert(id, Some(org.clone()));
                self.events.push(("organization.created".into(), org));
            }
            5 => {
                let live = Self::live(&self.orgs);
                if live.is_empty() {
                    return;
                }
                let id = live[rng.below(live.len())].clone();
                let at = self.tick();
                let Some(Some(org)) = self.orgs.get_mut(&id) else { return };
                org["name"] = json!(format!("Org {id} v{at}"));
                org["updated_at"] = json!(at);
                let org = org.clone();
                self.events.push(("organization.updated".into(), org));
            }
            6 if rng.below(6) == 0 => {
                let live = Self::live(&self.orgs);
                if live.is_empty() {
                    return;
                }
                let id = live[rng.below(live.len())].clone();
                self.orgs.insert(id.clone(), None);
                self.memberships.retain(|(o, _), _| *o != id);
                self.events.push((
                    "organization.deleted".into(),
                    json!({ "object": "organization", "id": id, "deleted": true }),
                ));
            }
            _ => self.membership_step(rng),
        }
    }

    fn membership_step(&mut self, rng: &mut Rng) {
        let (users, orgs) = (Self::live(&self.users), Self::live(&self.orgs));
        if users.is_empty() || orgs.is_empty() {
            return;
        }
        let key = (orgs[rng.below(orgs.len())].clone(), users[rng.below(users.len())].clone());
        let at = self.tick();
        let org = self.orgs[&key.0].clone().unwrap_or_default();
        let user = self.users[&key.1].clone().unwrap_or_default();
        match self.memberships.get(&key).cloned() {
            None => {
                self.next_membership += 1;
                let mut m =
                    fake_clerk::membership(&format!("orgmem_{}", self.next_membership), &org, &user, "org:member");
                m["updated_at"] = json!(at);
                self.memberships.insert(key, m.clone());
                self.events.push(("organizationMembership.created".into(), m));
            }
            Some(mut m) if rng.below(2) == 0 => {
                m["role"] = json!(if m["role"] == "org:member" { "org:admin" } else { "org:member" });
                m["organization"] = org;
                m["updated_at"] = json!(at);
                self.memberships.insert(key, m.clone());
                self.events.push(("organizationMembership.updated".into(), m));
            }
            Some(mut m) => {
                m["updated_at"] = json!(at);
                self.memberships.remove(&key);
                self.events.push(("organizationMembership.deleted".into(), m));
            }
        }
    }
}

async fn shuffled_duplicated_history_converges_to_clerks_final_state(backend: Backend) {
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let mut model = Model::default();
    while model.events.len() < 300 {
        model.step(&mut rng);
    }

    // The fake Clerk holds the final state (memberships name users it may have to serve).
    let clerk = FakeClerk::start().await;
    for user in model.users.values().flatten() {
        clerk.put_user(user.clone());
    }
    let app = TestApp::with_clerk(backend, &clerk, &[("CLERK_WEBHOOK_SIGNING_SECRET", TEST_WEBHOOK_SECRET)]).await;

    let mut deliveries: Vec<_> = model
        .events
        .iter()
        .enumerate()
        .map(|(i, (kind, data))| webhook(TEST_WEBHOOK_SECRET, &format!("msg_{i}"), kind, data))
        .collect();
    for i in 0..60 {
        let again = deliveries[(i * 7) % deliveries.len()].body.clone();
        let original = &deliveries[(i * 7) % deliveries.len()];
        deliveries.push(fake_clerk::sign_raw(TEST_WEBHOOK_SECRET, &original.svix_id, original.timestamp, again));
    }
    for i in (1..deliveries.len()).rev() {
        deliveries.swap(i, rng.below(i + 1));
    }
    for delivery in &deliveries {
        let (status, body) = app.post_webhook(delivery).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Users: every live Clerk user mirrored with its final fields; every deleted one tombstoned.
    let rows: Vec<(String, String, bool, Option<String>)> = on_pool!(&app.db, pool => sqlx::query_as(
        "SELECT clerk_id, first_name, is_active, CASE WHEN deleted_at IS NULL THEN NULL ELSE 'deleted' END FROM users")
        .fetch_all(pool).await)
    .expect("users");
    let local: BTreeMap<String, (String, bool, bool)> =
        rows.into_iter().map(|(id, first, active, deleted)| (id, (first, active, deleted.is_some()))).collect();
    for (id, user) in &model.users {
        match (user, local.get(id)) {
            (Some(u), Some((first, active, false))) => {
                assert_eq!(first, u["first_name"].as_str().unwrap_or_default(), "{id}");
                assert_eq!(*active, !u["banned"].as_bool().unwrap_or(false), "{id}");
            }
            (None, Some((_, false, true))) => {}
            (expected, got) => panic!("{id}: expected {expected:?}, got {got:?}"),
        }
    }

    // Organizations: final names, tombstones for deleted ones.
    let rows: Vec<(String, String, bool)> = on_pool!(&app.db, pool => sqlx::query_as(
        "SELECT clerk_id, name, deleted_at IS NOT NULL FROM organizations").fetch_all(pool).await)
    .expect("orgs");
    for (id, name, deleted) in rows {
        match model.orgs.get(&id) {
            Some(Some(org)) => assert!(!deleted && org["name"] == name.as_str(), "{id}: {name} vs {}", org["name"]),
            Some(None) => assert!(deleted, "{id} should be deleted"),
            None => panic!("unexpected org {id}"),
        }
    }

    // Memberships: exactly Clerk's live set, with final roles.
    let rows: Vec<(String, String, String)> = on_pool!(&app.db, pool => sqlx::query_as(
        "SELECT o.clerk_id, u.clerk_id, m.role FROM organization_memberships m \
         JOIN organizations o ON o.id = m.organization_id JOIN users u ON u.id = m.user_id \
         WHERE m.deleted_at IS NULL").fetch_all(pool).await)
    .expect("memberships");
    let local: BTreeSet<(String, String, String)> = rows.into_iter().collect();
    let expected: BTreeSet<(String, String, String)> = model
        .memberships
        .iter()
        .map(|((o, u), m)| (o.clone(), u.clone(), m["role"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(local, expected);
    assert_eq!(backend::db::webhook_events::count(&app.db).await.expect("count"), model.events.len() as i64);
}
