//! Revert payloads to readable errors: `Rollup__QuoteExpired(current: 101, validUntil: 100)`
//! instead of a hex blob.
//!
//! The error ABIs come from the generated bindings (`#[sol(abi)]`), so every custom error any
//! bound contract can raise is known by name, with its parameter names: the `Errors` library's,
//! OpenZeppelin's that the contracts use (`SafeERC20FailedOperation`, `ERC20InsufficientBalance`,
//! ...), and the dev verifiers'. Solidity's built-in `Error(string)` and `Panic(uint256)` are
//! decoded too.

use std::{collections::HashMap, fmt, sync::LazyLock};

use alloy::{
    contract,
    dyn_abi::{DynSolValue, ErrorExt},
    json_abi::{Error as AbiError, JsonAbi},
    primitives::{hex, Bytes, Selector, U256},
    providers::PendingTransactionError,
    sol_types::{Panic, PanicKind, Revert, SolError},
    transports::{RpcError, TransportErrorKind},
};

/// One decoded argument of a custom error, its value rendered for humans (decimal integers,
/// checksummed addresses, 0x-hex bytes, quoted strings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedArg {
    pub name: String,
    pub value: String,
}

/// A revert payload decoded against every error the bound contracts declare.
///
/// `Display` gives `Name(arg: value, ...)`; `Panic(code: 0x11 (arithmetic underflow or
/// overflow))` for a panic and `Error(reason: "...")` for a string revert. The raw payload is
/// kept, so a caller can match an error with its generated type: `decoded.is::<Errors::Rollup__QuoteExpired>()`
/// or `decoded.decode_as::<Errors::Rollup__QuoteExpired>()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedError {
    name: String,
    args: Vec<DecodedArg>,
    data: Bytes,
}

impl DecodedError {
    /// The error's name: `Rollup__QuoteExpired`, `Panic` or `Error`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn args(&self) -> &[DecodedArg] {
        &self.args
    }

    /// The revert payload as returned by the node (selector first).
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    pub fn selector(&self) -> Selector {
        Selector::from_slice(&self.data[..4])
    }

    /// Whether this is the error `E` (by selector).
    pub fn is<E: SolError>(&self) -> bool {
        self.selector() == E::SELECTOR
    }

    /// The error as its generated type, when it is an `E`.
    pub fn decode_as<E: SolError>(&self) -> Option<E> {
        E::abi_decode(&self.data).ok()
    }

    /// The message of an `Error(string)` revert.
    pub fn revert_reason(&self) -> Option<String> {
        self.decode_as::<Revert>().map(|r| r.reason)
    }

    /// The code of a `Panic(uint256)`.
    pub fn panic_code(&self) -> Option<U256> {
        self.decode_as::<Panic>().map(|p| p.code)
    }
}

impl fmt::Display for DecodedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}: {}", arg.name, arg.value)?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for DecodedError {}

/// Decodes a revert payload. `None` when it is empty (a bare `revert()`, out of gas) or its
/// selector is none of the known errors, or its arguments do not decode; the caller then has
/// only the hex.
pub fn decode_revert(data: &[u8]) -> Option<DecodedError> {
    if data.len() < 4 {
        return None;
    }
    let selector = Selector::from_slice(&data[..4]);
    let data_bytes = Bytes::copy_from_slice(data);

    if selector == Revert::SELECTOR {
        let reason = Revert::abi_decode(data).ok()?.reason;
        let value = format!("{reason:?}");
        return Some(DecodedError {
            name: "Error".into(),
            args: vec![arg("reason", value)],
            data: data_bytes,
        });
    }
    if selector == Panic::SELECTOR {
        let code = Panic::abi_decode(data).ok()?.code;
        let value = match u32::try_from(code).ok().and_then(PanicKind::from_number) {
            Some(kind) => format!("{code:#x} ({})", kind.as_str()),
            None => format!("{code:#x}"),
        };
        return Some(DecodedError {
            name: "Panic".into(),
            args: vec![arg("code", value)],
            data: data_bytes,
        });
    }

    let error = KNOWN_ERRORS.get(&selector)?;
    let decoded = error.decode_error(data).ok()?;
    let args = error
        .inputs
        .iter()
        .zip(&decoded.body)
        .enumerate()
        .map(|(i, (param, value))| {
            let name = if param.name.is_empty() {
                format!("_{i}")
            } else {
                param.name.clone()
            };
            arg(&name, render(value))
        })
        .collect();
    Some(DecodedError {
        name: error.name.clone(),
        args,
        data: data_bytes,
    })
}

fn arg(name: &str, value: String) -> DecodedArg {
    DecodedArg {
        name: name.to_owned(),
        value,
    }
}

/// Every custom error of the bound contracts, by selector. Two ABIs declaring the same error
/// (the Rollup re-exports the `Errors` it raises) agree on it, so the first one wins.
static KNOWN_ERRORS: LazyLock<HashMap<Selector, AbiError>> = LazyLock::new(|| {
    let abis: [JsonAbi; 9] = [
        crate::Errors::abi::contract(),
        crate::Rollup::abi::contract(),
        crate::StakingLib::abi::contract(),
        crate::ProverEscrow::abi::contract(),
        crate::ForcedInclusionQueue::abi::contract(),
        crate::IEpochVerifier::abi::contract(),
        crate::InsecureDevEpochVerifier::abi::contract(),
        crate::InsecureDevTxProofVerifier::abi::contract(),
        crate::DevToken::abi::contract(),
    ];
    let mut map = HashMap::new();
    for abi in abis {
        for error in abi.errors() {
            map.entry(error.selector()).or_insert_with(|| error.clone());
        }
    }
    map
});

fn render(value: &DynSolValue) -> String {
    match value {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::FixedBytes(word, size) => hex::encode_prefixed(&word[..*size]),
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Function(f) => hex::encode_prefixed(f.as_slice()),
        DynSolValue::Bytes(b) => hex::encode_prefixed(b),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            format!(
                "[{}]",
                items.iter().map(render).collect::<Vec<_>>().join(", ")
            )
        }
        DynSolValue::Tuple(items) => {
            format!(
                "({})",
                items.iter().map(render).collect::<Vec<_>>().join(", ")
            )
        }
    }
}

/// Where alloy errors keep a revert payload: the `data` of a JSON-RPC error response to
/// `eth_call`, `eth_estimateGas` or `eth_sendRawTransaction`.
pub trait RevertData {
    /// The revert payload, if this error is a revert that carried one.
    fn revert_data(&self) -> Option<Bytes>;

    /// The payload decoded with [`decode_revert`].
    fn decoded_revert(&self) -> Option<DecodedError> {
        self.revert_data().and_then(|data| decode_revert(&data))
    }
}

impl RevertData for RpcError<TransportErrorKind> {
    fn revert_data(&self) -> Option<Bytes> {
        self.as_error_resp()
            .and_then(|payload| payload.as_revert_data())
    }
}

impl RevertData for contract::Error {
    fn revert_data(&self) -> Option<Bytes> {
        self.as_revert_data()
    }
}

impl RevertData for PendingTransactionError {
    fn revert_data(&self) -> Option<Bytes> {
        match self {
            Self::TransportError(e) => e.revert_data(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy::{
        json_abi::JsonAbi,
        primitives::{address, b256, U256},
        sol_types::{SolError, SolInterface},
    };

    use super::*;
    use crate::{Errors, Rollup};

    #[test]
    fn decodes_custom_error_with_named_arguments() {
        let err = Errors::Rollup__QuoteExpired {
            current: U256::from(101),
            validUntil: U256::from(100),
        };
        let decoded = decode_revert(&err.abi_encode()).expect("known error");
        assert_eq!(decoded.name(), "Rollup__QuoteExpired");
        assert_eq!(
            decoded.to_string(),
            "Rollup__QuoteExpired(current: 101, validUntil: 100)"
        );
        assert!(decoded.is::<Errors::Rollup__QuoteExpired>());
        assert!(!decoded.is::<Errors::Rollup__InvalidSlot>());
        assert_eq!(
            decoded.decode_as::<Errors::Rollup__QuoteExpired>(),
            Some(err)
        );
    }

    #[test]
    fn renders_addresses_and_bytes32() {
        let err = Errors::Rollup__ProofRightAlreadyClaimed {
            epoch: U256::from(7),
            bondProvider: address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        };
        assert_eq!(
            decode_revert(&err.abi_encode()).unwrap().to_string(),
            "Rollup__ProofRightAlreadyClaimed(epoch: 7, bondProvider: 0x70997970C51812dc3A010C7d01b50e0d17dc79C8)"
        );
        let hash = b256!("0x00000000000000000000000000000000000000000000000000000000000000ff");
        let err = Errors::Rollup__InvalidArchive {
            expected: hash,
            actual: B256_ZERO,
        };
        assert_eq!(
            decode_revert(&err.abi_encode()).unwrap().to_string(),
            format!("Rollup__InvalidArchive(expected: {hash}, actual: {B256_ZERO})")
        );
    }

    const B256_ZERO: alloy::primitives::B256 = alloy::primitives::B256::ZERO;

    #[test]
    fn every_errors_library_error_is_known_by_name() {
        let abi: JsonAbi = Errors::abi::contract();
        let mut count = 0;
        for error in abi.errors() {
            let body = DynSolValue::Tuple(
                error
                    .inputs
                    .iter()
                    .map(|p| match p.ty.as_str() {
                        "address" => DynSolValue::Address(Default::default()),
                        "bytes32" => DynSolValue::FixedBytes(Default::default(), 32),
                        ty => {
                            assert!(
                                ty.starts_with("uint"),
                                "{}: unexpected type {ty}",
                                error.name
                            );
                            DynSolValue::Uint(U256::from(1), 256)
                        }
                    })
                    .collect(),
            );
            let mut data = error.selector().to_vec();
            data.extend(body.abi_encode_params());
            let decoded =
                decode_revert(&data).unwrap_or_else(|| panic!("{} not decoded", error.name));
            assert_eq!(decoded.name(), error.name);
            assert_eq!(decoded.args().len(), error.inputs.len());
            count += 1;
        }
        assert!(count > 80, "the Errors library has {count} errors");
    }

    #[test]
    fn decodes_through_the_generated_error_enum() {
        // The enum the Rollup's binding generates decodes the same payload; both views agree.
        let err = Errors::Rollup__InsufficientAttestations {
            needed: U256::from(33),
            actual: U256::from(2),
        };
        let data = err.abi_encode();
        let typed = Rollup::RollupErrors::abi_decode(&data).expect("raised by the Rollup");
        assert!(matches!(
            typed,
            Rollup::RollupErrors::Rollup__InsufficientAttestations(_)
        ));
        assert_eq!(
            decode_revert(&data).unwrap().name(),
            "Rollup__InsufficientAttestations"
        );
    }

    #[test]
    fn decodes_errors_outside_the_errors_library() {
        // StakingLib is linked, so its errors are not in the Rollup's ABI, only in its own.
        let err = Errors::Staking__NotWithdrawer {
            expected: address!("0x0000000000000000000000000000000000000001"),
            actual: address!("0x0000000000000000000000000000000000000002"),
        };
        assert_eq!(
            decode_revert(&err.abi_encode()).unwrap().name(),
            "Staking__NotWithdrawer"
        );
        // OpenZeppelin's ERC-20 errors, from the DevToken's ABI.
        let err = crate::DevToken::ERC20InsufficientBalance {
            sender: address!("0x0000000000000000000000000000000000000003"),
            balance: U256::from(5),
            needed: U256::from(6),
        };
        assert_eq!(
            decode_revert(&err.abi_encode()).unwrap().to_string(),
            "ERC20InsufficientBalance(sender: 0x0000000000000000000000000000000000000003, balance: 5, needed: 6)"
        );
    }

    #[test]
    fn decodes_panic_and_string_reverts() {
        let panic = Panic {
            code: U256::from(0x11),
        };
        let decoded = decode_revert(&panic.abi_encode()).unwrap();
        assert_eq!(
            decoded.to_string(),
            "Panic(code: 0x11 (arithmetic underflow or overflow))"
        );
        assert_eq!(decoded.panic_code(), Some(U256::from(0x11)));

        let revert = Revert {
            reason: "Deploy: rollup address differs".into(),
        };
        let decoded = decode_revert(&revert.abi_encode()).unwrap();
        assert_eq!(
            decoded.to_string(),
            "Error(reason: \"Deploy: rollup address differs\")"
        );
        assert_eq!(
            decoded.revert_reason().as_deref(),
            Some("Deploy: rollup address differs")
        );
    }

    #[test]
    fn unknown_or_malformed_payloads_are_none() {
        assert_eq!(decode_revert(&[]), None);
        assert_eq!(decode_revert(&[0xde, 0xad]), None);
        assert_eq!(decode_revert(&[0xde, 0xad, 0xbe, 0xef, 0, 1]), None);
        // A known selector whose arguments are cut short.
        let mut data = Errors::Rollup__QuoteExpired {
            current: U256::from(1),
            validUntil: U256::from(2),
        }
        .abi_encode();
        data.truncate(40);
        assert_eq!(decode_revert(&data), None);
    }

    #[test]
    fn extracts_revert_data_from_a_json_rpc_error() {
        let data = Errors::Rollup__NothingToPrune {}.abi_encode();
        let payload = serde_json::from_value(serde_json::json!({
            "code": 3,
            "message": "execution reverted: custom error 0x...",
            "data": hex::encode_prefixed(&data),
        }))
        .unwrap();
        let err: RpcError<TransportErrorKind> = RpcError::ErrorResp(payload);
        assert_eq!(
            err.revert_data().as_deref().map(|b| &b[..]),
            Some(&data[..])
        );
        assert_eq!(
            err.decoded_revert().unwrap().to_string(),
            "Rollup__NothingToPrune()"
        );
        let err = contract::Error::TransportError(err);
        assert_eq!(
            err.decoded_revert().unwrap().name(),
            "Rollup__NothingToPrune"
        );
        assert_eq!(RpcError::<TransportErrorKind>::NullResp.revert_data(), None);
    }
}
