//! Which one request finishes a multipart upload.
//!
//! Complete and Abort first claim the upload with a lightweight
//! transaction on `upload_claims`, then mark the claim committed (a second
//! one, conditional on still holding it) before their first step that
//! cannot be undone: the head write, or the release of the parts. Only the
//! request whose commit mark applied writes a head from the upload's parts
//! or releases them. Without this, a Complete racing an Abort, or a second
//! Complete that chose other parts, could commit a head whose blobs the
//! other request had just released.
//!
//! A request that dies leaves its claim behind. An uncommitted claim older
//! than [`STALE_MS`] is taken over (`IF finisher = ? AND committed = null`):
//! its holder's commit mark can then no longer apply, so safety does not
//! depend on clocks, only the wait for the takeover does. A committed claim
//! is never taken over; a later request finishes the cleanup it left
//! ([`Claimed::Committed`]). The one exception is a conditional Complete
//! whose head write was refused: it withdraws its own commit
//! ([`Claims::withdraw_claim`]), which no other request acted on.

use uuid::Uuid;

use super::rows::ClaimRow;
use std::sync::Arc;

use super::cql::Cql;
use super::statements::ClaimStatements;
use super::{now_ms, StorageError};

/// How old an uncommitted claim must be before another request may take
/// it over (clients meanwhile get 503 and retry). Safety does not depend on
/// it (a taken-over claim can no longer commit), so it is short: a request
/// whose Cassandra node died mid-way must not block the client's retries
/// for long. The fault test saw boto3's retries of a Complete give up
/// against a 60 s claim.
const STALE_MS: i64 = 10_000;

/// What the upload is being finished by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Finish {
    Complete,
    Abort,
}

impl Finish {
    fn as_str(self) -> &'static str {
        match self {
            Finish::Complete => "complete",
            Finish::Abort => "abort",
        }
    }

    fn parse(s: &str) -> Option<Finish> {
        match s {
            "complete" => Some(Finish::Complete),
            "abort" => Some(Finish::Abort),
            _ => None,
        }
    }
}

/// This request's right to finish one upload.
pub(super) struct Claim {
    finisher: Uuid,
}

/// The outcome of claiming an upload.
pub(super) enum Claimed {
    /// Ours: commit with [`Claims::commit_claim`].
    Mine(Claim),
    /// An earlier request committed to a finish (and may have died before
    /// its cleanup).
    Committed(Committed),
}

/// What an earlier request committed to.
pub(super) struct Committed {
    pub finish: Finish,
    /// A Complete's head's ETag (none before schema version 5).
    pub etag: Option<String>,
    /// When it claimed the upload (its gateway's clock).
    pub claimed_ms: i64,
}

fn busy() -> StorageError {
    StorageError::Busy("another request is completing or aborting this multipart upload")
}

/// The claims on multipart uploads, with their statements.
pub(super) struct Claims {
    cql: Arc<Cql>,
    st: ClaimStatements,
}

impl Claims {
    pub(crate) async fn open(cql: Arc<Cql>, ks: &str) -> Result<Claims, StorageError> {
        Ok(Claims {
            st: ClaimStatements::prepare(&cql.session, ks).await?,
            cql,
        })
    }

    /// Claims `upload_id` for this request, taking over a stale
    /// uncommitted claim; `Busy` while another request holds a
    /// fresh one.
    pub(crate) async fn claim_upload(&self, upload_id: &str) -> Result<Claimed, StorageError> {
        let st = &self.st;
        let claim = Claim {
            finisher: Uuid::new_v4(),
        };
        let now = now_ms();
        if self
            .cql
            .lwt(&st.claim_insert, (upload_id, claim.finisher, now))
            .await?
        {
            return Ok(Claimed::Mine(claim));
        }
        let rows: Vec<ClaimRow> = self.cql.rows(&st.claim_get_serial, (upload_id,)).await?;
        let Some(ClaimRow {
            finisher: Some(holder),
            claimed_ms: Some(since),
            committed: commit,
            etag,
        }) = rows.into_iter().next()
        else {
            return Err(busy());
        };
        if let Some(commit) = commit {
            return Finish::parse(&commit)
                .map(|finish| {
                    Claimed::Committed(Committed {
                        finish,
                        etag,
                        claimed_ms: since,
                    })
                })
                .ok_or_else(|| StorageError::Corrupt(format!("upload claim commit {commit:?}")));
        }
        if now - since < STALE_MS {
            return Err(busy());
        }
        let taken = self
            .cql
            .lwt(&st.claim_takeover, (claim.finisher, now, upload_id, holder))
            .await?;
        if !taken {
            return Err(busy());
        }
        tracing::info!(
            upload_id,
            stale_ms = now - since,
            "took over the claim of a request that stopped finishing this upload"
        );
        Ok(Claimed::Mine(claim))
    }

    /// Gives an uncommitted claim up (the request failed before its
    /// commit), so that the next request need not wait for it to go stale.
    pub(crate) async fn drop_claim(&self, upload_id: &str, claim: Claim) {
        if let Err(e) = self.give_up_claim(upload_id, claim).await {
            tracing::warn!(upload_id, error = %e, "could not drop an upload claim");
        }
    }

    /// `drop_claim`, telling whether the claim was still ours (it was not
    /// taken over in the meantime).
    pub(crate) async fn give_up_claim(
        &self,
        upload_id: &str,
        claim: Claim,
    ) -> Result<bool, StorageError> {
        self.cql
            .lwt(&self.st.claim_drop, (upload_id, claim.finisher))
            .await
    }

    /// Takes back the commit of a Complete whose conditional head write
    /// did not apply (nothing was written), then drops the claim: the
    /// upload is as it was before the request, and a retry may claim it at
    /// once. Only a commit that names no ETag is withdrawn, and no other
    /// request writes a head from such a commit; the most one can have
    /// done meanwhile is forget the upload, leaving its parts (a leak,
    /// never a loss). If the withdrawal fails, the commit stays and the
    /// next request for the upload finishes it that way.
    pub(crate) async fn withdraw_claim(&self, upload_id: &str, claim: Claim) {
        let undone = self
            .cql
            .lwt(
                &self.st.claim_commit,
                (None::<&str>, None::<&str>, upload_id, claim.finisher),
            )
            .await;
        match undone {
            Ok(true) => self.drop_claim(upload_id, claim).await,
            // A committed claim is never taken over, so this is not seen.
            Ok(false) => tracing::warn!(upload_id, "a withdrawn commit was no longer ours"),
            Err(e) => {
                tracing::warn!(upload_id, error = %e, "could not withdraw a commit to complete")
            }
        }
    }

    /// Marks the claim committed to `finish` (a Complete to the ETag of
    /// its head, or to none if its head write is conditional); fails if it
    /// was taken over. After this, no other request writes a head from, or
    /// releases, the upload's parts, except a Complete for the same ETag
    /// whose head is missing (`multipart::finish_committed`).
    pub(crate) async fn commit_claim(
        &self,
        upload_id: &str,
        claim: &Claim,
        finish: Finish,
        etag: Option<&str>,
    ) -> Result<(), StorageError> {
        let applied = self
            .cql
            .lwt(
                &self.st.claim_commit,
                (finish.as_str(), etag, upload_id, claim.finisher),
            )
            .await?;
        if applied {
            Ok(())
        } else {
            Err(busy())
        }
    }
}
