//! The follower on a real anvil: confirmations, the finalized tag, bounded ranges, resuming
//! from a cursor, and reorgs above and below the confirmation depth.

mod common;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{B256, U256};
use alloy::providers::Provider as _;
use common::{id, set_automine, within, Chain, Proxy};
use ledger_evm::follower::{
    Advance, Confirmation, Cursor, Follower, FollowerConfig, Poll, SettlementRequest,
};

fn config(chain: &Chain, confirmation: Confirmation) -> FollowerConfig {
    FollowerConfig {
        contract: chain.contract,
        from_block: 0,
        confirmation,
        range_blocks_max: 1_000,
        ranges_per_poll_max: 4,
    }
}

async fn follower(chain: &Chain, config: FollowerConfig, cursor: Option<Cursor>) -> Follower {
    Follower::new(chain.provider.clone(), config, cursor)
        .await
        .unwrap()
}

async fn advance(follower: &mut Follower) -> Advance {
    match follower.poll().await.unwrap() {
        Poll::Advanced(advance) => advance,
        other => panic!("expected progress, got {other:?}"),
    }
}

fn ids(events: &[SettlementRequest]) -> Vec<B256> {
    events.iter().map(|e| e.id).collect()
}

#[tokio::test]
async fn releases_after_n_confirmations() {
    let Some(chain) = Chain::start("releases_after_n_confirmations", &[]).await else {
        return;
    };
    within(60, async {
        let mut follower = follower(&chain, config(&chain, Confirmation::Blocks(3)), None).await;
        let block = chain.request(id(1), 2_500_000).await;

        let first = advance(&mut follower).await;
        assert!(first.released.is_empty(), "released with one confirmation");
        assert_eq!(ids(&first.seen), [id(1)], "seen before confirmation");
        chain.mine(1).await;
        let second = advance(&mut follower).await;
        assert!(
            second.released.is_empty() && second.seen.is_empty(),
            "{second:?}"
        );
        assert_eq!(second.confirmed_through, Some(block - 1));

        chain.mine(1).await;
        let third = advance(&mut follower).await;
        assert_eq!(
            ids(&third.released),
            [id(1)],
            "released with three confirmations"
        );
        let event = &third.released[0];
        assert_eq!(event.key.chain_id, 31337);
        assert_eq!(event.block_number, block);
        assert_eq!(event.amount.units, U256::from(2_500_000u64));
        assert_eq!(event.amount.units_decimal(), "2500000");
        assert_eq!(event.amount.decimals, 6);
        assert_eq!(
            (event.currency.as_str(), event.debtor_ref.as_str()),
            ("USDC", "DE89370400440532013000")
        );
        assert_eq!(event.creditor_ref, "+639171234567");
        let block_hash = chain
            .provider
            .get_block_by_number(block.into())
            .await
            .unwrap()
            .unwrap()
            .header
            .hash;
        assert_eq!(event.block_hash, block_hash);
        assert!(follower.pending().is_empty());
        assert!(
            !format!("{event:?}").contains("DE89370400440532013000"),
            "refs are masked in Debug"
        );

        chain.mine(5).await;
        let later = advance(&mut follower).await;
        assert!(later.released.is_empty(), "released twice: {later:?}");
    })
    .await;
}

#[tokio::test]
async fn releases_at_the_finalized_tag() {
    // Anvil's finalized block trails the head by two epochs: 2 × 2 slots here.
    let Some(chain) = Chain::start(
        "releases_at_the_finalized_tag",
        &["--slots-in-an-epoch", "2"],
    )
    .await
    else {
        return;
    };
    within(60, async {
        let mut follower = follower(&chain, config(&chain, Confirmation::Finalized), None).await;
        let block = chain.request(id(2), 10).await;
        let mut polls = 0;
        loop {
            let advance = advance(&mut follower).await;
            let finalized = chain
                .provider
                .get_block_by_number(BlockNumberOrTag::Finalized)
                .await
                .unwrap()
                .map(|b| b.header.number);
            assert_eq!(
                advance.confirmed_through, finalized,
                "follows the node's finalized tag"
            );
            if finalized.is_some_and(|f| f >= block) {
                assert_eq!(ids(&advance.released), [id(2)], "released once finalized");
                break;
            }
            assert!(
                advance.released.is_empty(),
                "released before finalized: {advance:?}"
            );
            chain.mine(1).await;
            polls += 1;
            assert!(polls < 10, "never finalized");
        }
        assert!(
            polls >= 3,
            "finalized trails the head (took {polls} blocks)"
        );
    })
    .await;
}

#[tokio::test]
async fn reads_a_backlog_in_bounded_ranges() {
    let Some(chain) = Chain::start("reads_a_backlog_in_bounded_ranges", &[]).await else {
        return;
    };
    within(60, async {
        for n in 0..20 {
            chain.request(id(100 + n), 1 + n).await;
        }
        let head = chain.head().await;
        let mut config = config(&chain, Confirmation::Blocks(1));
        config.range_blocks_max = 4;
        config.ranges_per_poll_max = 2;
        let mut follower = follower(&chain, config, None).await;
        let mut released = Vec::new();
        let mut polls = 0u64;
        let mut previous_end = None::<u64>;
        loop {
            let advance = advance(&mut follower).await;
            polls += 1;
            assert!(
                advance.ranges_read <= 2,
                "{} ranges in one poll",
                advance.ranges_read
            );
            let end = advance.cursor.expect("read something").block_number;
            let start = previous_end.map_or(0, |e| e + 1);
            assert!(end + 1 - start <= 8, "one poll read blocks {start}..={end}");
            previous_end = Some(end);
            released.extend(advance.released);
            if advance.caught_up {
                break;
            }
        }
        assert_eq!(
            ids(&released),
            (0..20).map(|n| id(100 + n)).collect::<Vec<_>>(),
            "all, in order, once"
        );
        assert!(
            polls >= head.div_ceil(8),
            "{polls} polls for {head} blocks at 8 blocks a poll"
        );
    })
    .await;
}

#[tokio::test]
async fn resumes_from_a_cursor_inside_a_block() {
    let Some(chain) = Chain::start("resumes_from_a_cursor_inside_a_block", &[]).await else {
        return;
    };
    within(60, async {
        set_automine(&chain.provider, false).await;
        for n in 1..=3 {
            chain.send_request(id(n), n).await;
        }
        chain.mine(1).await;
        set_automine(&chain.provider, true).await;
        chain.request(id(4), 4).await;
        chain.request(id(5), 5).await;

        let mut first = follower(&chain, config(&chain, Confirmation::Blocks(1)), None).await;
        let all = advance(&mut first).await.released;
        assert_eq!(ids(&all), [id(1), id(2), id(3), id(4), id(5)]);
        assert_eq!(
            all[0].block_number, all[2].block_number,
            "three requests in one block"
        );

        // A caller that acted on the first two events only, then restarted.
        let persisted = all[1].cursor();
        assert_eq!(persisted.log_index, Some(all[1].key.log_index));
        let mut second = follower(
            &chain,
            config(&chain, Confirmation::Blocks(1)),
            Some(persisted),
        )
        .await;
        assert_eq!(
            ids(&advance(&mut second).await.released),
            [id(3), id(4), id(5)]
        );

        // From the end of a poll: nothing again, then only what is new.
        let end = first.cursor().unwrap();
        let mut third = follower(&chain, config(&chain, Confirmation::Blocks(1)), Some(end)).await;
        assert!(advance(&mut third).await.released.is_empty());
        chain.request(id(6), 6).await;
        assert_eq!(ids(&advance(&mut third).await.released), [id(6)]);
    })
    .await;
}

#[tokio::test]
async fn a_reorg_above_the_confirmation_depth_withdraws_seen_events() {
    let Some(chain) = Chain::start(
        "a_reorg_above_the_confirmation_depth_withdraws_seen_events",
        &[],
    )
    .await
    else {
        return;
    };
    within(60, async {
        let mut follower = follower(&chain, config(&chain, Confirmation::Blocks(4)), None).await;
        chain.request(id(10), 10).await;
        chain.mine(1).await;
        let seen = advance(&mut follower).await;
        assert_eq!(ids(&seen.seen), [id(10)]);

        chain.reorg(2).await;
        let after = advance(&mut follower).await;
        assert_eq!(ids(&after.withdrawn), [id(10)], "{after:?}");
        assert!(after.released.is_empty() && after.seen.is_empty());
        assert!(follower.pending().is_empty());

        chain.mine(6).await;
        let later = advance(&mut follower).await;
        assert!(
            later.released.is_empty(),
            "a withdrawn event was released: {later:?}"
        );
        // Asked again for real, it is a new event with a new key.
        chain.request(id(10), 10).await;
        chain.mine(3).await;
        let again = advance(&mut follower).await;
        assert_eq!(ids(&again.released), [id(10)]);
        assert_ne!(again.released[0].key, seen.seen[0].key);
    })
    .await;
}

#[tokio::test]
async fn a_chain_that_got_shorter_withdraws_seen_events_above_its_head() {
    let Some(chain) = Chain::start(
        "a_chain_that_got_shorter_withdraws_seen_events_above_its_head",
        &[],
    )
    .await
    else {
        return;
    };
    within(60, async {
        let mut follower = follower(&chain, config(&chain, Confirmation::Blocks(4)), None).await;
        chain.request(id(11), 11).await;
        chain.mine(1).await;
        assert_eq!(ids(&advance(&mut follower).await.seen), [id(11)]);

        let _: () = chain
            .provider
            .raw_request("anvil_rollback".into(), (2u64,))
            .await
            .unwrap();
        let after = advance(&mut follower).await;
        assert_eq!(ids(&after.withdrawn), [id(11)], "{after:?}");
        assert!(follower.pending().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_reorg_below_the_cursor_stops_the_follower() {
    let Some(chain) = Chain::start("a_reorg_below_the_cursor_stops_the_follower", &[]).await else {
        return;
    };
    within(60, async {
        chain.mine(3).await;
        let mut follower = follower(&chain, config(&chain, Confirmation::Blocks(2)), None).await;
        let block = chain.request(id(20), 20).await;
        chain.mine(1).await;
        let released = advance(&mut follower).await.released;
        assert_eq!(ids(&released), [id(20)]);
        let acted_on = released[0].cursor();

        chain.reorg(3).await;
        let Poll::ReorgBelowCursor(reorg) = follower.poll().await.unwrap() else {
            panic!("reorg not seen")
        };
        assert_eq!(reorg.cursor, follower.cursor().unwrap());
        assert_eq!(reorg.cursor.block_number, block);
        assert!(reorg
            .chain_block_hash
            .is_some_and(|h| h != reorg.cursor.block_hash));
        chain.mine(2).await;
        assert!(
            matches!(follower.poll().await.unwrap(), Poll::ReorgBelowCursor(_)),
            "stays stopped"
        );

        // A restarted process with the cursor of the event it acted on sees the same conflict.
        let mut restarted = self::follower(
            &chain,
            config(&chain, Confirmation::Blocks(2)),
            Some(acted_on),
        )
        .await;
        let Poll::ReorgBelowCursor(again) = restarted.poll().await.unwrap() else {
            panic!("reorg not seen")
        };
        assert_eq!(again.cursor, acted_on);

        // The caller restarts below the reorg: the event is not in this chain.
        let below = follower.cursor_at_block(block - 2).await.unwrap();
        follower.restart_from(Some(below));
        let after = advance(&mut follower).await;
        assert!(
            after.released.is_empty() && after.seen.is_empty(),
            "{after:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn survives_the_endpoint_going_away() {
    let Some(chain) = Chain::start("survives_the_endpoint_going_away", &[]).await else {
        return;
    };
    within(60, async {
        let mut proxy = Proxy::start(chain.anvil.port).await;
        let provider = common::provider(&proxy.url());
        let mut follower = Follower::new(provider, config(&chain, Confirmation::Blocks(1)), None)
            .await
            .unwrap();
        chain.request(id(30), 30).await;
        assert_eq!(ids(&advance(&mut follower).await.released), [id(30)]);
        let cursor = follower.cursor();

        proxy.down().await;
        chain.request(id(31), 31).await;
        let error = follower.poll().await.expect_err("the endpoint is down");
        assert!(error.is_transient(), "{error}");
        assert_eq!(follower.cursor(), cursor, "a failed poll moves nothing");

        proxy.up().await;
        assert_eq!(ids(&advance(&mut follower).await.released), [id(31)]);
    })
    .await;
}
