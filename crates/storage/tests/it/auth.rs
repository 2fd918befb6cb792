//! Admin users and sessions: password hashes and CSRF tokens come back
//! redacted, session tokens are stored only as their SHA-256, sessions
//! expire, logout / password change / purge end them, and bad input names
//! the field with nothing written.

use chrono::Duration;
use domain::Secret;
use storage::{
    StorageError,
    auth::{TOKEN_MIN, USERNAME_MAX},
    truncate_to_millis,
};

use crate::{fixtures::t0, harness::TestDb};

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$ZmFrZWhhc2hmYWtlaGFzaGZha2U";
const TOKEN: &str = "tok-0123456789abcdef0123456789abcdef";
const CSRF: &str = "csrf-fedcba9876543210";

async fn admins_round_trip_redacted(db: TestDb) {
    let store = &db.store;
    assert_eq!(store.auth().admin_count().await.unwrap(), 0);
    let admin = store
        .auth()
        .create_admin("admin", &Secret::new(HASH), t0())
        .await
        .unwrap();
    assert_eq!(admin.username, "admin");
    assert_eq!(admin.created_at, truncate_to_millis(t0()));
    assert_eq!(store.auth().admin_count().await.unwrap(), 1);
    let got = store.auth().admin("admin").await.unwrap().unwrap();
    assert_eq!(got, admin);
    assert_eq!(got.password_hash.expose(), HASH);
    assert!(!format!("{got:?}").contains("argon2"), "{got:?}");
    // Usernames are exact (case-sensitive on both backends).
    assert_eq!(store.auth().admin("Admin").await.unwrap(), None);
    let unicode = store
        .auth()
        .create_admin(&"관".repeat(USERNAME_MAX), &Secret::new(HASH), t0())
        .await
        .unwrap();
    assert_eq!(
        store
            .auth()
            .admin(&unicode.username)
            .await
            .unwrap()
            .unwrap(),
        unicode
    );
}

async fn sessions_store_only_hashes_and_expire(db: TestDb) {
    let store = &db.store;
    let admin = store
        .auth()
        .create_admin("admin", &Secret::new(HASH), t0())
        .await
        .unwrap();
    let token = Secret::new(TOKEN);
    let expires = t0() + Duration::hours(12);
    let s = store
        .auth()
        .create_session(admin.id, &token, &Secret::new(CSRF), expires, t0())
        .await
        .unwrap();
    assert_eq!(s.username, "admin");
    assert_eq!(s.admin_user_id, admin.id);
    assert_eq!(s.expires_at, truncate_to_millis(expires));
    assert!(!format!("{s:?}").contains(CSRF), "{s:?}");

    // Only the SHA-256 of the token is stored.
    let stored = db.raw_bytes("SELECT token_hash FROM sessions").await;
    let stored = String::from_utf8(stored[0].clone()).unwrap();
    assert_eq!(stored.len(), 64);
    assert!(stored.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!stored.contains(TOKEN));

    let live = t0() + Duration::hours(1);
    assert_eq!(
        store.auth().session(&token, live).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(
        store
            .auth()
            .session(&token, live)
            .await
            .unwrap()
            .unwrap()
            .csrf_token
            .expose(),
        CSRF
    );
    assert_eq!(
        store
            .auth()
            .session(&Secret::new("tok-not-the-right-one-000000"), live)
            .await
            .unwrap(),
        None
    );
    // Expired at exactly expires_at.
    assert_eq!(store.auth().session(&token, expires).await.unwrap(), None);

    // Logout ends it; a second logout finds nothing.
    assert!(store.auth().delete_session(&token).await.unwrap());
    assert!(!store.auth().delete_session(&token).await.unwrap());
    assert_eq!(store.auth().session(&token, live).await.unwrap(), None);

    // Purge removes only expired sessions.
    for (n, hours) in [(1, 1), (2, 2), (3, 48)] {
        store
            .auth()
            .create_session(
                admin.id,
                &Secret::new(format!("{TOKEN}-{n}")),
                &Secret::new(CSRF),
                t0() + Duration::hours(hours),
                t0(),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .auth()
            .purge_expired(t0() + Duration::hours(2))
            .await
            .unwrap(),
        2
    );
    assert_eq!(db.count("sessions").await, 1);

    // A password change ends every session of that admin.
    let new_hash = format!("{HASH}2");
    store
        .auth()
        .set_password("admin", &Secret::new(new_hash.clone()), live)
        .await
        .unwrap();
    assert_eq!(db.count("sessions").await, 0);
    let changed = store.auth().admin("admin").await.unwrap().unwrap();
    assert_eq!(changed.password_hash.expose(), new_hash);
    assert_eq!(changed.updated_at, truncate_to_millis(live));
    assert_eq!(changed.created_at, admin.created_at);
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(db: TestDb) {
    let store = &db.store;
    let good = Secret::new(HASH);
    for (username, hash, field) in [
        ("", HASH, "username"),
        (&*"u".repeat(USERNAME_MAX + 1), HASH, "username"),
        (" admin", HASH, "username"),
        ("admin", "plaintext-password", "password_hash"),
        (
            "admin",
            &*format!("$argon2id${}", "x".repeat(250)),
            "password_hash",
        ),
    ] {
        let err = store
            .auth()
            .create_admin(username, &Secret::new(hash), t0())
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
        assert!(!err.to_string().contains("plaintext-password"), "{err}");
    }
    assert_eq!(db.count("admin_users").await, 0);

    let admin = store
        .auth()
        .create_admin("admin", &good, t0())
        .await
        .unwrap();
    let err = store
        .auth()
        .create_admin("admin", &good, t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict { .. }), "{err}");
    assert_eq!(err.field(), Some("username"));

    let later = t0() + Duration::hours(1);
    let short = "s".repeat(TOKEN_MIN - 1);
    for (user, token, csrf, expires, field) in [
        (admin.id, short.as_str(), CSRF, later, "token"),
        (admin.id, "tök-non-ascii-0123456789", CSRF, later, "token"),
        (admin.id, TOKEN, "short", later, "csrf_token"),
        (admin.id, TOKEN, CSRF, t0(), "expires_at"),
        (987_654, TOKEN, CSRF, later, "admin_user_id"),
    ] {
        let err = store
            .auth()
            .create_session(user, &Secret::new(token), &Secret::new(csrf), expires, t0())
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("sessions").await, 0);

    let err = store
        .auth()
        .set_password("nobody", &good, t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
    let err = store
        .auth()
        .set_password("admin", &Secret::new("not-a-hash"), t0())
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("password_hash"), "{err}");
    assert_eq!(
        store
            .auth()
            .admin("admin")
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .expose(),
        HASH
    );
}

both_backends!(
    admins_round_trip_redacted,
    sessions_store_only_hashes_and_expire,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
);
