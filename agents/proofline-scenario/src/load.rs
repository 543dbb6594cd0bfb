//! The runner's own tx load.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy::primitives::Bytes;
use proofline_devnet::txgen::TxGen;
use proofline_node::rpc::NodeApiClient;
use tokio::sync::watch;

use crate::devnet::{rpc_client, unix_now};
use crate::report::SentTx;

/// The runner's tx load: generated txs sent round-robin to the nodes at `rate` per second (or each
/// to every node, `broadcast`: nodes do not gossip txs); each tx a node accepts is recorded with
/// its send time (seconds since genesis).
pub struct Load {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    sent: Arc<Mutex<Vec<SentTx>>>,
    refused: Arc<Mutex<HashMap<String, u64>>>,
}

impl Load {
    pub fn start(
        nodes: &[String],
        rate: f64,
        genesis: u64,
        seed: u64,
        broadcast: bool,
        payer: alloy::signers::local::PrivateKeySigner,
    ) -> eyre::Result<Load> {
        let clients = nodes
            .iter()
            .map(|u| rpc_client(u))
            .collect::<eyre::Result<Vec<_>>>()?;
        let (stop, mut stopped) = watch::channel(false);
        let sent = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(HashMap::new()));
        let (sent2, refused2) = (sent.clone(), refused.clone());
        let task = tokio::spawn(async move {
            let mut gen = TxGen::paying(seed, payer);
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut i = 0usize;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => return,
                }
                let tx = gen.next_tx();
                let t = unix_now() - genesis as f64;
                let to = if broadcast {
                    &clients[..]
                } else {
                    std::slice::from_ref(&clients[i % clients.len()])
                };
                i += 1;
                let mut accepted = None;
                for client in to {
                    match client.send_tx(Bytes::from(tx.encode())).await {
                        Ok(hash) => accepted = Some(hash),
                        Err(e) => {
                            let key = match &e {
                                jsonrpsee::core::ClientError::Call(c) => c.code().to_string(),
                                _ => "transport".into(),
                            };
                            *refused2.lock().expect("poisoned").entry(key).or_default() += 1;
                        }
                    }
                }
                if let Some(hash) = accepted {
                    sent2.lock().expect("poisoned").push(SentTx { hash, t });
                }
            }
        });
        Ok(Load {
            stop,
            task,
            sent,
            refused,
        })
    }

    /// Stops sending; returns the accepted txs and the refusals by error code.
    pub async fn stop(self) -> (Vec<SentTx>, HashMap<String, u64>) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let sent = std::mem::take(&mut *self.sent.lock().expect("poisoned"));
        let refused = std::mem::take(&mut *self.refused.lock().expect("poisoned"));
        (sent, refused)
    }
}
