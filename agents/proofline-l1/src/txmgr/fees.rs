//! Fee arithmetic of the transaction manager, pure so it can be tested alone.

/// The fee fields of an EIP-1559 (and EIP-4844) transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fees {
    pub max_fee_per_gas: u128,
    pub max_priority_fee_per_gas: u128,
    /// Set for blob transactions only.
    pub max_fee_per_blob_gas: Option<u128>,
}

/// What the chain asks for now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Market {
    pub base_fee: u128,
    /// The node's suggested tip (`eth_maxPriorityFeePerGas`).
    pub suggested_tip: u128,
    /// `eth_blobBaseFee`, when a blob transaction is being priced.
    pub blob_base_fee: Option<u128>,
}

/// Pricing rules and caps (part of `TxManagerConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeePolicy {
    /// `max_fee_per_gas = base_fee * base_fee_multiplier + tip`: with 2, the transaction stays
    /// includable through about six full blocks of base-fee growth.
    pub base_fee_multiplier: u128,
    /// Same, for the blob base fee.
    pub blob_base_fee_multiplier: u128,
    /// The tip never goes below this (some nodes suggest 0 on an idle chain).
    pub min_priority_fee_per_gas: u128,
    /// Caps: the manager never signs a transaction that pays more per unit.
    pub max_fee_per_gas_cap: u128,
    pub max_priority_fee_per_gas_cap: u128,
    pub max_fee_per_blob_gas_cap: u128,
    /// Minimum increase of each fee field for a replacement: geth's legacy pool needs 10%.
    pub bump_percent: u128,
    /// Same for blob transactions: geth's blob pool needs 100% on every fee field.
    pub blob_bump_percent: u128,
}

/// Why a transaction cannot be priced within the caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeeCapError {
    #[error("base fee {base_fee} wei exceeds the max fee cap {cap} wei")]
    BaseFee { base_fee: u128, cap: u128 },
    #[error("blob base fee {blob_base_fee} wei exceeds the blob fee cap {cap} wei")]
    BlobBaseFee { blob_base_fee: u128, cap: u128 },
}

impl FeePolicy {
    /// Fees for a new transaction at `market`, capped. Fails when the transaction could not be
    /// included at the current base fee within the caps (better not to occupy a nonce then).
    pub fn initial(&self, market: &Market) -> Result<Fees, FeeCapError> {
        if market.base_fee > self.max_fee_per_gas_cap {
            return Err(FeeCapError::BaseFee {
                base_fee: market.base_fee,
                cap: self.max_fee_per_gas_cap,
            });
        }
        let tip = market
            .suggested_tip
            .max(self.min_priority_fee_per_gas)
            .min(self.max_priority_fee_per_gas_cap);
        let max_fee = market
            .base_fee
            .saturating_mul(self.base_fee_multiplier)
            .saturating_add(tip)
            .min(self.max_fee_per_gas_cap);
        let max_fee_per_blob_gas = match market.blob_base_fee {
            None => None,
            Some(blob_base_fee) if blob_base_fee > self.max_fee_per_blob_gas_cap => {
                return Err(FeeCapError::BlobBaseFee {
                    blob_base_fee,
                    cap: self.max_fee_per_blob_gas_cap,
                });
            }
            Some(blob_base_fee) => Some(
                blob_base_fee
                    .saturating_mul(self.blob_base_fee_multiplier)
                    .max(1)
                    .min(self.max_fee_per_blob_gas_cap),
            ),
        };
        Ok(Fees {
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tip.min(max_fee),
            max_fee_per_blob_gas,
        })
    }

    /// Fees for a replacement of a transaction that paid `old`: every field raised by the bump
    /// percentage (what nodes require to accept a replacement at the same nonce), and at least
    /// what the market asks now. `None` when the caps leave no room for a valid replacement.
    pub fn bump(&self, old: &Fees, market: &Market) -> Option<Fees> {
        let is_blob = old.max_fee_per_blob_gas.is_some();
        let percent = if is_blob {
            self.blob_bump_percent
        } else {
            self.bump_percent
        };
        let fresh = self.initial_uncapped(market, is_blob);

        let min_tip = raise(old.max_priority_fee_per_gas, percent);
        let min_fee = raise(old.max_fee_per_gas, percent);
        let tip = min_tip
            .max(fresh.max_priority_fee_per_gas)
            .min(self.max_priority_fee_per_gas_cap);
        let fee = min_fee
            .max(fresh.max_fee_per_gas)
            .max(tip)
            .min(self.max_fee_per_gas_cap);
        if tip < min_tip || fee < min_fee || tip > fee {
            return None;
        }
        let max_fee_per_blob_gas = match old.max_fee_per_blob_gas {
            None => None,
            Some(old_blob) => {
                let min_blob = raise(old_blob, percent);
                let blob = min_blob
                    .max(fresh.max_fee_per_blob_gas.unwrap_or(0))
                    .min(self.max_fee_per_blob_gas_cap);
                if blob < min_blob {
                    return None;
                }
                Some(blob)
            }
        };
        Some(Fees {
            max_fee_per_gas: fee,
            max_priority_fee_per_gas: tip,
            max_fee_per_blob_gas,
        })
    }

    fn initial_uncapped(&self, market: &Market, is_blob: bool) -> Fees {
        let tip = market.suggested_tip.max(self.min_priority_fee_per_gas);
        Fees {
            max_fee_per_gas: market
                .base_fee
                .saturating_mul(self.base_fee_multiplier)
                .saturating_add(tip),
            max_priority_fee_per_gas: tip,
            max_fee_per_blob_gas: is_blob.then(|| {
                market
                    .blob_base_fee
                    .unwrap_or(1)
                    .saturating_mul(self.blob_base_fee_multiplier)
                    .max(1)
            }),
        }
    }
}

/// `value * (100 + percent) / 100`, rounded up, and always more than `value` when it is not zero
/// (a 10% bump of 5 wei is 6, not 5).
fn raise(value: u128, percent: u128) -> u128 {
    let raised = value.saturating_mul(100 + percent).div_ceil(100);
    if value > 0 && raised == value {
        value + 1
    } else {
        raised
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GWEI: u128 = 1_000_000_000;

    fn policy() -> FeePolicy {
        FeePolicy {
            base_fee_multiplier: 2,
            blob_base_fee_multiplier: 2,
            min_priority_fee_per_gas: GWEI / 10,
            max_fee_per_gas_cap: 500 * GWEI,
            max_priority_fee_per_gas_cap: 50 * GWEI,
            max_fee_per_blob_gas_cap: 100 * GWEI,
            bump_percent: 10,
            blob_bump_percent: 100,
        }
    }

    #[test]
    fn initial_fees_follow_the_base_fee() {
        let market = Market {
            base_fee: 10 * GWEI,
            suggested_tip: GWEI,
            blob_base_fee: None,
        };
        let fees = policy().initial(&market).unwrap();
        assert_eq!(
            fees,
            Fees {
                max_fee_per_gas: 21 * GWEI,
                max_priority_fee_per_gas: GWEI,
                max_fee_per_blob_gas: None
            }
        );
        // A zero suggestion gets the floor.
        let market = Market {
            base_fee: 1,
            suggested_tip: 0,
            blob_base_fee: Some(1),
        };
        let fees = policy().initial(&market).unwrap();
        assert_eq!(fees.max_priority_fee_per_gas, GWEI / 10);
        assert_eq!(fees.max_fee_per_blob_gas, Some(2));
    }

    #[test]
    fn initial_fees_respect_the_caps() {
        let market = Market {
            base_fee: 400 * GWEI,
            suggested_tip: 80 * GWEI,
            blob_base_fee: None,
        };
        let fees = policy().initial(&market).unwrap();
        assert_eq!(fees.max_fee_per_gas, 500 * GWEI);
        assert_eq!(fees.max_priority_fee_per_gas, 50 * GWEI);
        let market = Market {
            base_fee: 501 * GWEI,
            suggested_tip: GWEI,
            blob_base_fee: None,
        };
        assert_eq!(
            policy().initial(&market),
            Err(FeeCapError::BaseFee {
                base_fee: 501 * GWEI,
                cap: 500 * GWEI
            })
        );
        let market = Market {
            base_fee: GWEI,
            suggested_tip: GWEI,
            blob_base_fee: Some(101 * GWEI),
        };
        assert!(matches!(
            policy().initial(&market),
            Err(FeeCapError::BlobBaseFee { .. })
        ));
    }

    #[test]
    fn a_bump_raises_every_field_by_at_least_ten_percent() {
        let old = Fees {
            max_fee_per_gas: 21 * GWEI,
            max_priority_fee_per_gas: GWEI,
            max_fee_per_blob_gas: None,
        };
        let calm = Market {
            base_fee: GWEI,
            suggested_tip: GWEI / 2,
            blob_base_fee: None,
        };
        let new = policy().bump(&old, &calm).unwrap();
        assert!(new.max_fee_per_gas * 100 >= old.max_fee_per_gas * 110);
        assert!(new.max_priority_fee_per_gas * 100 >= old.max_priority_fee_per_gas * 110);
        assert_eq!(new.max_fee_per_gas, 231 * GWEI / 10);
        // When the market moved more than 10%, the bump follows the market.
        let busy = Market {
            base_fee: 50 * GWEI,
            suggested_tip: 3 * GWEI,
            blob_base_fee: None,
        };
        let new = policy().bump(&old, &busy).unwrap();
        assert_eq!(
            new,
            Fees {
                max_fee_per_gas: 103 * GWEI,
                max_priority_fee_per_gas: 3 * GWEI,
                max_fee_per_blob_gas: None
            }
        );
    }

    #[test]
    fn blob_transactions_double_every_fee() {
        let old = Fees {
            max_fee_per_gas: 20 * GWEI,
            max_priority_fee_per_gas: GWEI,
            max_fee_per_blob_gas: Some(2),
        };
        let market = Market {
            base_fee: GWEI,
            suggested_tip: GWEI,
            blob_base_fee: Some(1),
        };
        let new = policy().bump(&old, &market).unwrap();
        assert_eq!(
            new,
            Fees {
                max_fee_per_gas: 40 * GWEI,
                max_priority_fee_per_gas: 2 * GWEI,
                max_fee_per_blob_gas: Some(4)
            }
        );
    }

    #[test]
    fn no_bump_beyond_the_caps() {
        let old = Fees {
            max_fee_per_gas: 460 * GWEI,
            max_priority_fee_per_gas: GWEI,
            max_fee_per_blob_gas: None,
        };
        let market = Market {
            base_fee: GWEI,
            suggested_tip: GWEI,
            blob_base_fee: None,
        };
        // 460 * 1.1 = 506 > 500: a capped replacement would be refused as underpriced.
        assert_eq!(policy().bump(&old, &market), None);
        let old = Fees {
            max_fee_per_gas: 450 * GWEI,
            max_priority_fee_per_gas: GWEI,
            max_fee_per_blob_gas: None,
        };
        assert_eq!(
            policy().bump(&old, &market).unwrap().max_fee_per_gas,
            495 * GWEI
        );
    }

    #[test]
    fn raise_rounds_up_and_always_moves() {
        assert_eq!(raise(0, 10), 0);
        assert_eq!(raise(1, 10), 2);
        assert_eq!(raise(5, 10), 6);
        assert_eq!(raise(100, 10), 110);
        assert_eq!(raise(101, 10), 112);
        assert_eq!(raise(2, 100), 4);
    }
}
