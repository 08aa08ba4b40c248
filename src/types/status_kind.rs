//! The kinds of status document a gateway publishes in the backend for the
//! dashboard. The strings are what is stored: they never change.

use std::fmt;

/// What a status document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StatusKind {
    /// A gateway's heartbeat (its rates and throughput series).
    Beat,
    /// The bucket usage one gateway counted.
    Usage,
    /// A usage count in progress: its start time.
    UsageRun,
}

impl StatusKind {
    /// The stored name of the kind.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StatusKind::Beat => "beat",
            StatusKind::Usage => "usage",
            StatusKind::UsageRun => "usage-run",
        }
    }
}

impl fmt::Display for StatusKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_ones_on_disk() {
        assert_eq!(StatusKind::Beat.as_str(), "beat");
        assert_eq!(StatusKind::Usage.as_str(), "usage");
        assert_eq!(StatusKind::UsageRun.as_str(), "usage-run");
    }
}
