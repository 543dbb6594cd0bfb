//! The submitter's JSON-RPC intake: `submitter_submitProof(EpochProof)` stores a proof for the
//! submitter to land (provers push theirs here). Answers `true` once stored; a proof that does not
//! parse is refused by jsonrpsee with `-32602`.

use std::net::SocketAddr;

use jsonrpsee::{
    core::RpcResult,
    proc_macros::rpc,
    server::{Server, ServerConfig, ServerHandle},
};

use crate::{proof::EpochProof, submitter::ProofInbox};

#[rpc(server, namespace = "submitter")]
pub trait SubmitterApi {
    #[method(name = "submitProof")]
    async fn submit_proof(&self, proof: EpochProof) -> RpcResult<bool>;
}

struct Api {
    inbox: ProofInbox,
}

#[jsonrpsee::core::async_trait]
impl SubmitterApiServer for Api {
    async fn submit_proof(&self, proof: EpochProof) -> RpcResult<bool> {
        Ok(self.inbox.hand_over(proof))
    }
}

/// Serves the intake on `addr`; returns the bound address and the server's handle.
pub async fn serve(
    addr: SocketAddr,
    inbox: ProofInbox,
) -> eyre::Result<(SocketAddr, ServerHandle)> {
    let config = ServerConfig::builder()
        .max_request_body_size(4 * 1024 * 1024)
        .build();
    let server = Server::builder().set_config(config).build(addr).await?;
    let bound = server.local_addr()?;
    Ok((bound, server.start(Api { inbox }.into_rpc())))
}
