//! Status documents kept in memory, for a backend whose gateways share
//! one process (the embedded store): heartbeats and usage need no disk.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// (kind, id) → (document, expiry).
#[derive(Default)]
pub struct MemoryStatuses {
    docs: Mutex<BTreeMap<(String, String), (String, Instant)>>,
}

impl MemoryStatuses {
    pub fn put(&self, kind: &str, id: &str, doc: &str, ttl: Duration) {
        let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        docs.retain(|_, (_, expires)| *expires > now);
        docs.insert((kind.into(), id.into()), (doc.into(), now + ttl));
    }

    /// Unexpired documents of `kind`, by id.
    pub fn get(&self, kind: &str) -> Vec<(String, String)> {
        let docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        docs.iter()
            .filter(|((k, _), (_, expires))| k == kind && *expires > now)
            .map(|((_, id), (doc, _))| (id.clone(), doc.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_replace_and_expire() {
        let s = MemoryStatuses::default();
        s.put("beat", "gw1", "a", Duration::from_secs(60));
        s.put("beat", "gw1", "b", Duration::from_secs(60));
        s.put("beat", "gw2", "c", Duration::ZERO);
        s.put("usage", "gw1", "d", Duration::from_secs(60));
        assert_eq!(s.get("beat"), vec![("gw1".to_string(), "b".to_string())]);
        assert_eq!(s.get("usage").len(), 1);
    }
}
