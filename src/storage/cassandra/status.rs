//! The dashboard's view of the backend: gateways' status documents
//! (`gateway_status`) and the Cassandra nodes as this gateway sees them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use scylla::client::session::Session;
use scylla::statement::unprepared::Statement;
use scylla::statement::Consistency;
use scylla::DeserializeRow;

use super::connect::{exec_err, shape_err};
use super::CassandraStorage;
use crate::storage::{NodeStatus, StatusStore, StorageError};
use crate::types::StatusKind;

/// What gossip says about one node: its status and load.
struct Gossip {
    status: Option<String>,
    load: Option<u64>,
}

/// A `gateway_status` row of one kind.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
struct StatusRow {
    id: String,
    doc: Option<String>,
}

/// A `system_views.gossip_info` row.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
struct GossipRow {
    address: IpAddr,
    status: Option<String>,
    status_with_port: Option<String>,
    load: Option<String>,
}

#[async_trait]
impl StatusStore for CassandraStorage {
    async fn put_status(
        &self,
        kind: StatusKind,
        id: &str,
        doc: &str,
        ttl: Duration,
    ) -> Result<(), StorageError> {
        let ttl = i32::try_from(ttl.as_secs().max(1)).unwrap_or(i32::MAX);
        self.inner
            .cql
            .exec(&self.inner.st.status_put, (kind.as_str(), id, doc, ttl))
            .await
    }

    async fn statuses(&self, kind: StatusKind) -> Result<Vec<(String, String)>, StorageError> {
        let rows: Vec<StatusRow> = self
            .inner
            .cql
            .rows(&self.inner.st.status_get, (kind.as_str(),))
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.id, r.doc?)))
            .collect())
    }

    /// Every node the driver knows, up when it holds a connection to it,
    /// with the status and load that gossip publishes (from whichever node
    /// answers; gossip sends a node's load every minute).
    async fn nodes(&self) -> Result<Vec<NodeStatus>, StorageError> {
        let gossip = gossip(&self.inner.cql.session).await.unwrap_or_else(|e| {
            tracing::debug!(error = %e, "no gossip figures for the dashboard");
            HashMap::new()
        });
        let state = self.inner.cql.session.get_cluster_state();
        let mut nodes: Vec<NodeStatus> = state
            .get_nodes_info()
            .iter()
            .map(|node| {
                let g = gossip.get(&node.address.ip());
                NodeStatus {
                    address: node.address.to_string(),
                    datacenter: node.datacenter.clone(),
                    up: node.is_connected(),
                    load_bytes: g.and_then(|g| g.load),
                    status: g.and_then(|g| g.status.clone()),
                }
            })
            .collect();
        nodes.sort_by(|a, b| a.address.cmp(&b.address));
        Ok(nodes)
    }
}

/// What gossip says about every node, from whichever node answers.
async fn gossip(session: &Session) -> Result<HashMap<IpAddr, Gossip>, StorageError> {
    // A virtual table: each node answers from its own gossip state.
    let mut stmt = Statement::new(
        "SELECT address, status, status_with_port, load FROM system_views.gossip_info",
    );
    stmt.set_consistency(Consistency::One);
    let res = session
        .query_unpaged(stmt, &[])
        .await
        .map_err(exec_err)?
        .into_rows_result()
        .map_err(shape_err)?;
    let mut out = HashMap::new();
    for row in res.rows::<GossipRow>().map_err(shape_err)? {
        let GossipRow {
            address,
            status,
            status_with_port,
            load,
        } = row.map_err(shape_err)?;
        let status = status.or(status_with_port);
        out.insert(
            address,
            Gossip {
                // "NORMAL,<token>": the state before the comma.
                status: status.map(|s| s.split(',').next().unwrap_or_default().to_owned()),
                load: load.and_then(|l| l.parse::<f64>().ok()).map(|l| l as u64),
            },
        );
    }
    Ok(out)
}
