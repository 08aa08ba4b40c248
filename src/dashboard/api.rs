//! `GET /_s3gw/api/cluster`: the whole cluster as the dashboard shows it,
//! from the heartbeats and usage in the backend and this gateway's view of
//! the database nodes. `docs/operations.md` describes the fields.

use std::collections::BTreeMap;

use serde::Serialize;

use super::beat::{self, Beat, DOWN_AFTER_MS, SERIES_POINTS};
use crate::state::AppState;
use crate::storage::{now_ms, NodeStatus, StorageError};
use crate::telemetry::recent::{Point, STEP_SECS};
use crate::types::StatusKind;

#[derive(Debug, Serialize)]
pub(crate) struct Cluster {
    pub now_ms: i64,
    pub backend: &'static str,
    pub answered_by: String,
    pub gateways: Vec<Gateway>,
    pub nodes: Vec<NodeStatus>,
    pub buckets: Buckets,
    pub throughput: Throughput,
}

#[derive(Debug, Serialize)]
pub(crate) struct Gateway {
    pub id: String,
    pub address: String,
    pub version: String,
    pub started_ms: i64,
    pub last_seen_ms: i64,
    pub up: bool,
    pub requests_per_s: f64,
    pub errors_per_s: f64,
    pub error_rate: f64,
    pub p99_ms: Option<f64>,
    pub in_flight: u64,
    pub bytes_in_per_s: f64,
    pub bytes_out_per_s: f64,
}

#[derive(Debug, Serialize)]
pub(crate) struct Buckets {
    /// When the usage was counted; `None` before the first count.
    pub as_of_ms: Option<i64>,
    pub count: usize,
    pub items: Vec<BucketUsage>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BucketUsage {
    pub name: String,
    /// `None` for a bucket created after the last count.
    pub objects: Option<u64>,
    pub bytes: Option<u64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Throughput {
    pub step_s: i64,
    pub points: Vec<Point>,
}

impl Gateway {
    fn from_beat(b: Beat, now: i64) -> Self {
        Gateway {
            up: now - b.beat_ms < DOWN_AFTER_MS,
            id: b.id,
            address: b.address,
            version: b.version,
            started_ms: b.started_ms,
            last_seen_ms: b.beat_ms,
            requests_per_s: b.rates.requests_per_s,
            errors_per_s: b.rates.errors_per_s,
            error_rate: b.rates.error_rate,
            p99_ms: b.rates.p99_ms,
            in_flight: b.in_flight,
            bytes_in_per_s: b.rates.bytes_in_per_s,
            bytes_out_per_s: b.rates.bytes_out_per_s,
        }
    }
}

/// Orders names with numbers by their value: gw2 before gw10.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn pieces(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (pa, pb) = (pieces(a), pieces(b));
    for ((da, xa), (db, xb)) in pa.iter().zip(pb.iter()) {
        let ord = if *da && *db {
            let (ta, tb) = (xa.trim_start_matches('0'), xb.trim_start_matches('0'));
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            xa.cmp(xb)
        };
        if ord.is_ne() {
            return ord;
        }
    }
    pa.len().cmp(&pb.len()).then_with(|| a.cmp(b))
}

/// The cluster's throughput over the last ten minutes: every gateway's
/// series added point by point (all step on the same 5 s grid of Unix
/// time). A gateway that went down keeps its share of the points before
/// its last heartbeat, so the past does not change when it dies.
fn sum_series(beats: &[Beat], now: i64) -> Vec<Point> {
    let oldest = now - SERIES_POINTS as i64 * STEP_SECS * 1000;
    let mut sum: BTreeMap<i64, Point> = BTreeMap::new();
    for b in beats {
        for p in b.series.iter().filter(|p| p.t_ms > oldest) {
            let s = sum.entry(p.t_ms).or_insert_with(|| Point {
                t_ms: p.t_ms,
                ..Point::default()
            });
            s.requests_per_s += p.requests_per_s;
            s.errors_per_s += p.errors_per_s;
            s.bytes_in_per_s += p.bytes_in_per_s;
            s.bytes_out_per_s += p.bytes_out_per_s;
        }
    }
    let skip = sum.len().saturating_sub(SERIES_POINTS);
    sum.into_values().skip(skip).collect()
}

pub(crate) async fn cluster(state: &AppState) -> Result<Cluster, StorageError> {
    let statuses = state.statuses.as_ref();
    let now = now_ms();
    let mut beats: Vec<Beat> = statuses
        .statuses(StatusKind::Beat)
        .await?
        .into_iter()
        .filter_map(|(id, doc)| match serde_json::from_str::<Beat>(&doc) {
            Ok(b) => Some(b),
            Err(e) => {
                tracing::debug!(gateway = %id, error = %e, "unreadable heartbeat");
                None
            }
        })
        .collect();
    beats.sort_by(|a, b| natural_cmp(&a.id, &b.id));
    let throughput = Throughput {
        step_s: STEP_SECS,
        points: sum_series(&beats, now),
    };
    let gateways = beats
        .into_iter()
        .map(|b| Gateway::from_beat(b, now))
        .collect();
    let usage = beat::latest_usage(statuses).await?;
    let items: Vec<BucketUsage> = state
        .storage
        .list_buckets()
        .await?
        .into_iter()
        .map(|b| {
            let counted = usage.as_ref().and_then(|u| u.buckets.get(&b.name)).copied();
            BucketUsage {
                objects: counted.map(|c| c.0),
                bytes: counted.map(|c| c.1),
                name: b.name,
            }
        })
        .collect();
    Ok(Cluster {
        now_ms: now,
        backend: match state.config.backend {
            crate::config::Backend::Embedded => "embedded",
            crate::config::Backend::Cassandra(_) => "cassandra",
        },
        answered_by: state.telemetry.gateway_id.clone(),
        gateways,
        nodes: statuses.nodes().await?,
        buckets: Buckets {
            as_of_ms: usage.map(|u| u.as_of_ms),
            count: items.len(),
            items,
        },
        throughput,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::recent::Rates;

    fn beat(id: &str, beat_ms: i64, points: &[(i64, f64)]) -> Beat {
        Beat {
            id: id.into(),
            address: String::new(),
            version: String::new(),
            started_ms: 0,
            beat_ms,
            in_flight: 0,
            rates: Rates::default(),
            series: points
                .iter()
                .map(|&(t_ms, r)| Point {
                    t_ms,
                    requests_per_s: r,
                    ..Point::default()
                })
                .collect(),
        }
    }

    #[test]
    fn gateway_ids_sort_by_their_numbers() {
        let mut ids = vec![
            "scale-10", "scale-2", "scale-1", "gw", "gw01", "a:9000", "a:10000",
        ];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            ids,
            vec!["a:9000", "a:10000", "gw", "gw01", "scale-1", "scale-2", "scale-10"]
        );
    }

    #[test]
    fn series_add_up_by_time_and_keep_ten_minutes() {
        let now = 1_000_000;
        let beats = [
            beat("gw1", now - 1000, &[(990_000, 1.0), (995_000, 2.0)]),
            beat("gw2", now - 3000, &[(985_000, 4.0), (990_000, 8.0)]),
            // Down: its past still counts; older than ten minutes does not.
            beat(
                "gw3",
                now - DOWN_AFTER_MS,
                &[(400_000, 7.0), (985_000, 100.0)],
            ),
        ];
        let sum = sum_series(&beats, now);
        let got: Vec<(i64, f64)> = sum.iter().map(|p| (p.t_ms, p.requests_per_s)).collect();
        assert_eq!(got, vec![(985_000, 104.0), (990_000, 9.0), (995_000, 2.0)]);
        assert!(Gateway::from_beat(beats[1].clone(), now).up);
        assert!(!Gateway::from_beat(beats[2].clone(), now).up);
    }
}
