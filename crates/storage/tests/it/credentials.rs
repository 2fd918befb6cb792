//! Upbit credentials (SPEC §17): the secret is stored sealed (AES-256-GCM
//! under the master key) and only comes back through `decrypt`, redacted in
//! `Debug`; listings and the audit show a masked access key; a wrong key,
//! or a ciphertext moved to another row, fails cleanly; DELETE is refused
//! while a live trader uses the credential; bad input names the field.

use domain::{CredentialId, Secret, TraderEvent};
use storage::{
    MasterKey, SecretError, StorageError,
    credentials::{ACCESS_KEY_MAX, NAME_MAX, NewCredential, SECRET_MAX},
    truncate_to_millis,
};

use crate::{
    fixtures::{master_key, strategy, t0, trader_on},
    harness::TestDb,
};

const ACCESS: &str = "Xa9kQ2mN7pL4vR8sT1uW3yZ5bC6dE0fG";
const SECRET: &str = "vErY-s3cret-UPBIT-key-7f3a9c1e5b2d";

fn new_credential(name: &str) -> NewCredential {
    NewCredential {
        name: name.to_owned(),
        access_key: ACCESS.to_owned(),
        secret: Secret::new(SECRET),
    }
}

fn hex_literal(bytes: &[u8]) -> String {
    format!("X'{}'", hex::encode_upper(bytes))
}

async fn sealed_round_trip_and_nothing_leaks(db: TestDb) {
    let store = &db.store;
    let key = master_key();
    let summary = store
        .credentials()
        .create(&new_credential("main account"), &key, "admin", t0())
        .await
        .unwrap();
    assert_eq!(summary.name, "main account");
    assert_eq!(summary.access_key_masked, "Xa9k…");
    assert_eq!(summary.created_at, truncate_to_millis(t0()));
    assert_eq!(
        store.credentials().get(summary.id).await.unwrap().unwrap(),
        summary
    );
    assert_eq!(
        store.credentials().list().await.unwrap(),
        vec![summary.clone()]
    );

    let plain = store.credentials().decrypt(summary.id, &key).await.unwrap();
    assert_eq!(plain.id, summary.id);
    assert_eq!(plain.access_key, ACCESS);
    assert_eq!(plain.secret.expose(), SECRET);
    assert_eq!(plain.created_at, summary.created_at);

    // Debug of everything a caller can hold shows neither the secret nor
    // the full access key.
    for shown in [
        format!("{summary:?}"),
        format!("{plain:?}"),
        format!("{:?}", store.credentials().list().await.unwrap()),
        format!("{key:?}"),
    ] {
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(!shown.contains(ACCESS), "{shown}");
    }

    // At rest: the ciphertext is not the plaintext, the nonce is 96 bits,
    // and the audit row carries only the name and the masked key.
    let sealed = db
        .raw_bytes("SELECT secret_ciphertext FROM credentials")
        .await;
    assert_eq!(sealed.len(), 1);
    assert_eq!(sealed[0].len(), SECRET.len() + 16, "ciphertext + GCM tag");
    assert!(
        !sealed[0]
            .windows(SECRET.len())
            .any(|w| w == SECRET.as_bytes())
    );
    let nonce = db.raw_bytes("SELECT secret_nonce FROM credentials").await;
    assert_eq!(nonce[0].len(), 12);
    for column in ["old_value", "new_value", "entity_id", "actor"] {
        for value in db
            .raw_bytes(&format!("SELECT COALESCE({column}, '') FROM config_audit"))
            .await
        {
            let text = String::from_utf8(value).unwrap();
            assert!(!text.contains(SECRET) && !text.contains(ACCESS), "{text}");
        }
    }
    let audit = store
        .config_audit()
        .list_for("credential", &summary.id.to_string(), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].new_value.as_ref().unwrap()["access_key"], "Xa9k…");

    // The same secret sealed twice gives different ciphertexts (fresh nonce).
    store
        .credentials()
        .create(&new_credential("second"), &key, "admin", t0())
        .await
        .unwrap();
    let both = db
        .raw_bytes("SELECT secret_ciphertext FROM credentials ORDER BY id")
        .await;
    assert_ne!(both[0], both[1]);
}

async fn wrong_key_or_moved_ciphertext_fails_cleanly(db: TestDb) {
    let store = &db.store;
    let key = master_key();
    let a = store
        .credentials()
        .create(&new_credential("a"), &key, "admin", t0())
        .await
        .unwrap();
    let b = store
        .credentials()
        .create(
            &NewCredential {
                name: "b".into(),
                access_key: "OtherAccessKey123".into(),
                secret: Secret::new("other-secret"),
            },
            &key,
            "admin",
            t0(),
        )
        .await
        .unwrap();

    let wrong = MasterKey::from_bytes([7; 32]);
    let err = store.credentials().decrypt(a.id, &wrong).await.unwrap_err();
    assert!(
        matches!(err, StorageError::Secret(SecretError::Decrypt)),
        "{err}"
    );
    assert!(!err.to_string().contains(SECRET), "{err}");

    // Copy a's sealed secret onto b's row: the access key is bound as
    // associated data, so it does not open there.
    let nonce = db
        .raw_bytes(&format!(
            "SELECT secret_nonce FROM credentials WHERE id = {}",
            a.id
        ))
        .await
        .remove(0);
    let ct = db
        .raw_bytes(&format!(
            "SELECT secret_ciphertext FROM credentials WHERE id = {}",
            a.id
        ))
        .await
        .remove(0);
    db.raw_exec(&format!(
        "UPDATE credentials SET secret_nonce = {}, secret_ciphertext = {} WHERE id = {}",
        hex_literal(&nonce),
        hex_literal(&ct),
        b.id
    ))
    .await
    .unwrap();
    let err = store.credentials().decrypt(b.id, &key).await.unwrap_err();
    assert!(
        matches!(err, StorageError::Secret(SecretError::Decrypt)),
        "{err}"
    );
    // A nonce of the wrong length is a corrupt row naming the column.
    db.raw_exec(&format!(
        "UPDATE credentials SET secret_nonce = X'0102' WHERE id = {}",
        b.id
    ))
    .await
    .unwrap();
    let err = store.credentials().decrypt(b.id, &key).await.unwrap_err();
    assert_eq!(err.field(), Some("secret_nonce"), "{err}");
    // a itself is intact.
    assert_eq!(
        store
            .credentials()
            .decrypt(a.id, &key)
            .await
            .unwrap()
            .secret
            .expose(),
        SECRET
    );
    let err = store
        .credentials()
        .decrypt(CredentialId::new(987_654).unwrap(), &key)
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
}

async fn delete_is_refused_while_in_use_and_audited(db: TestDb) {
    let store = &db.store;
    let key = master_key();
    let c = store
        .credentials()
        .create(&new_credential("c"), &key, "admin", t0())
        .await
        .unwrap();
    let s = strategy(store, "s").await;
    let t = trader_on(store, "user", s.id, Some(c.id)).await;

    let err = store
        .credentials()
        .delete(c.id, "admin", t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict { .. }), "{err}");
    assert_eq!(err.field(), Some("credential_id"));
    assert!(store.credentials().get(c.id).await.unwrap().is_some());

    // Once the trader is removed, the credential can go; the removed
    // trader is detached from it.
    store.traders().remove(t.id, "admin", t0()).await.unwrap();
    store
        .credentials()
        .delete(c.id, "admin", t0())
        .await
        .unwrap();
    assert!(store.credentials().get(c.id).await.unwrap().is_none());
    assert!(store.credentials().list().await.unwrap().is_empty());
    assert_eq!(db.count("credentials").await, 0);
    let removed = store.traders().get(t.id).await.unwrap().unwrap();
    assert_eq!(removed.credential_id, None);
    let audit = store
        .config_audit()
        .list_for("credential", &c.id.to_string(), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].new_value, None, "deletion: old value only");
    assert_eq!(audit[0].old_value.as_ref().unwrap()["name"], "c");
    let err = store
        .credentials()
        .delete(c.id, "admin", t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
    // A removed trader cannot be brought back onto the deleted credential.
    assert!(
        store
            .traders()
            .update_state(t.id, TraderEvent::Run, "admin", t0())
            .await
            .is_err()
    );
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(db: TestDb) {
    let store = &db.store;
    let key = master_key();
    let good = new_credential("ok");
    let cases: Vec<(NewCredential, &str, &str)> = vec![
        (
            NewCredential {
                name: String::new(),
                ..good.clone()
            },
            "admin",
            "name",
        ),
        (
            NewCredential {
                name: "n".repeat(NAME_MAX + 1),
                ..good.clone()
            },
            "admin",
            "name",
        ),
        (
            NewCredential {
                access_key: "has space".into(),
                ..good.clone()
            },
            "admin",
            "access_key",
        ),
        (
            NewCredential {
                access_key: "k".repeat(ACCESS_KEY_MAX + 1),
                ..good.clone()
            },
            "admin",
            "access_key",
        ),
        (
            NewCredential {
                secret: Secret::new(""),
                ..good.clone()
            },
            "admin",
            "secret",
        ),
        (
            NewCredential {
                secret: Secret::new("s".repeat(SECRET_MAX + 1)),
                ..good.clone()
            },
            "admin",
            "secret",
        ),
        (good.clone(), "", "actor"),
    ];
    for (new, actor, field) in &cases {
        let err = store
            .credentials()
            .create(new, &key, actor, t0())
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(*field), "{err}");
        assert!(!err.to_string().contains(SECRET), "{err}");
    }
    assert_eq!(db.count("credentials").await, 0);
    assert_eq!(db.count("config_audit").await, 0);

    store
        .credentials()
        .create(&good, &key, "admin", t0())
        .await
        .unwrap();
    let err = store
        .credentials()
        .create(&good, &key, "admin", t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict { .. }), "{err}");
    assert_eq!(err.field(), Some("name"));
    assert_eq!(db.count("credentials").await, 1);
    assert_eq!(db.count("config_audit").await, 1);
}

both_backends!(
    sealed_round_trip_and_nothing_leaks,
    wrong_key_or_moved_ciphertext_fails_cleanly,
    delete_is_refused_while_in_use_and_audited,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
);
