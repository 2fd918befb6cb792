//! [`TraderLocks`]: one async mutex per trader, so that operations on the same
//! trader (start, recreate, stop, remove) run one at a time while different
//! traders proceed in parallel.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use domain::TraderId;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Per-trader async locks. Entries are tiny and live as long as the runtime.
#[derive(Debug, Default)]
pub(crate) struct TraderLocks {
    map: Mutex<HashMap<TraderId, Arc<AsyncMutex<()>>>>,
}

impl TraderLocks {
    /// Waits for and holds the lock of `id`.
    pub(crate) async fn lock(&self, id: TraderId) -> OwnedMutexGuard<()> {
        let m = {
            let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(map.entry(id).or_default())
        };
        m.lock_owned().await
    }
}
