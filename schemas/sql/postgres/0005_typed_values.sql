-- Every kind and status is one of a known set (DESIGN.md decision 8), checked by the store as
-- well as by the Rust enums; the rails get their one name each (bank, wallet).

UPDATE settlements SET rail = CASE rail WHEN 'iso20022' THEN 'bank' ELSE 'wallet' END
    WHERE rail IN ('iso20022', 'iso8583');
UPDATE outbound_messages SET rail = CASE rail WHEN 'iso20022' THEN 'bank' ELSE 'wallet' END
    WHERE rail IN ('iso20022', 'iso8583');

ALTER TABLE settlements
    ADD CONSTRAINT settlements_state_known CHECK (state IN ('received', 'routed', 'submitted',
        'sent', 'accepted', 'settled', 'rejected', 'returned', 'reversed', 'failed',
        'unroutable')),
    ADD CONSTRAINT settlements_amount_positive CHECK (amount_minor > 0),
    ADD CONSTRAINT settlements_rail_known CHECK (rail IN ('bank', 'wallet'));
ALTER TABLE settlement_transitions
    ADD CONSTRAINT settlement_transitions_from_known CHECK (from_state IN ('received', 'routed',
        'submitted', 'sent', 'accepted', 'settled', 'rejected', 'returned', 'reversed',
        'failed', 'unroutable')),
    ADD CONSTRAINT settlement_transitions_to_known CHECK (to_state IN ('received', 'routed',
        'submitted', 'sent', 'accepted', 'settled', 'rejected', 'returned', 'reversed',
        'failed', 'unroutable'));
ALTER TABLE outbox
    ADD CONSTRAINT outbox_kind_known CHECK (kind IN ('deliver', 'writeback', 'reverse',
        'status')),
    ADD CONSTRAINT outbox_status_known CHECK (status IN ('pending', 'leased', 'done', 'dead'));
ALTER TABLE inbound_journal
    ADD CONSTRAINT inbound_journal_channel_known CHECK (channel IN ('ledger-http',
        'ledger-file', 'bank-response', 'bank-callback', 'switch-response', 'switch-message')),
    ADD CONSTRAINT inbound_journal_status_known CHECK (status IN ('received', 'applied',
        'rejected', 'duplicate', 'conflict', 'unmatched'));
ALTER TABLE outbound_messages
    ADD CONSTRAINT outbound_messages_rail_known CHECK (rail IN ('bank', 'wallet'));
