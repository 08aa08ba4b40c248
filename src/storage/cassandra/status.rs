//! The dashboard's view of the backend: gateways' status documents
//! (`gateway_status`) and the Cassandra nodes as this gateway sees them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use scylla::statement::unprepared::Statement;
use scylla::statement::Consistency;

use super::connect::{exec_err, shape_err};
use super::CassandraStorage;
use crate::storage::{NodeStatus, StorageError};

/// What gossip says about one node: its status and load.
struct Gossip {
    status: Option<String>,
    load: Option<u64>,
}

impl CassandraStorage {
    pub(super) async fn write_status(
        &self,
        kind: &str,
        id: &str,
        doc: &str,
        ttl: Duration,
    ) -> Result<(), StorageError> {
        let ttl = i32::try_from(ttl.as_secs().max(1)).unwrap_or(i32::MAX);
        self.exec(&self.inner.st.status_put, (kind, id, doc, ttl))
            .await
    }

    pub(super) async fn read_statuses(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, String)>, StorageError> {
        let rows: Vec<(String, Option<String>)> =
            self.rows(&self.inner.st.status_get, (kind,)).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, doc)| Some((id, doc?)))
            .collect())
    }

    /// Every node the driver knows, up when it holds a connection to it,
    /// with the status and load that gossip publishes (from whichever node
    /// answers; gossip sends a node's load every minute).
    pub(super) async fn node_statuses(&self) -> Result<Vec<NodeStatus>, StorageError> {
        let gossip = self.gossip().await.unwrap_or_else(|e| {
            tracing::debug!(error = %e, "no gossip figures for the dashboard");
            HashMap::new()
        });
        let state = self.inner.session.get_cluster_state();
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

    async fn gossip(&self) -> Result<HashMap<IpAddr, Gossip>, StorageError> {
        // A virtual table: each node answers from its own gossip state.
        let mut stmt = Statement::new(
            "SELECT address, status, status_with_port, load FROM system_views.gossip_info",
        );
        stmt.set_consistency(Consistency::One);
        let res = self
            .inner
            .session
            .query_unpaged(stmt, &[])
            .await
            .map_err(exec_err)?
            .into_rows_result()
            .map_err(shape_err)?;
        let mut out = HashMap::new();
        for row in res
            .rows::<(IpAddr, Option<String>, Option<String>, Option<String>)>()
            .map_err(shape_err)?
        {
            let (address, status, status_with_port, load) = row.map_err(shape_err)?;
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
}
