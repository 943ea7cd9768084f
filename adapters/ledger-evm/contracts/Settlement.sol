// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Settlement requests and their outcomes, written once each.
/// @notice The operator asks for a settlement (a transfer to a bank account or a wallet);
/// the gateway follows `SettlementRequested`, settles off chain, and records the final
/// outcome here exactly once. Neither a request nor an outcome can be changed afterwards.
///
/// What is learnt later is appended, never written over the outcome:
/// - a correction (`recordCorrection`, at most one per settlement): a settlement recorded
///   `settled` that the bank's statement later shows returned gets `returned` as its
///   correction; `getOutcome` still gives what was recorded first, `getCorrection` the
///   correction;
/// - a refund request (`requestRefund`, at most one per settlement): reconciliation resolved a
///   break by asking the operator to refund; the contract records the request (amount in the
///   request's decimals) for the operator to act on, and moves no value itself.
///
/// Outcome status codes (0 is "no outcome yet" and is never accepted):
///   1 settled     the counterparty confirmed the credit
///   2 rejected    the counterparty refused it before settlement
///   3 returned    settled, then sent back by the counterparty
///   4 reversed    cancelled after submission (e.g. an ISO 8583 reversal)
///   5 failed      the gateway gave up (retries exhausted, dead letter)
///   6 unroutable  no rail serves the currency or the account
contract Settlement {
    uint8 public constant STATUS_SETTLED = 1;
    uint8 public constant STATUS_REJECTED = 2;
    uint8 public constant STATUS_RETURNED = 3;
    uint8 public constant STATUS_REVERSED = 4;
    uint8 public constant STATUS_FAILED = 5;
    uint8 public constant STATUS_UNROUTABLE = 6;

    /// Bounds on the strings, so that an event stays small enough for any follower to read.
    /// Currency: an ISO 4217 code or a token symbol. Refs: an IBAN (at most 34) or an MSISDN
    /// (at most 15 digits), with room for a scheme prefix. Reason: an ISO 20022 reason code
    /// (4) or a proprietary one (35). counterpartyRef: the counterparty's reference (UETR, RRN...).
    uint256 public constant CURRENCY_BYTES_MAX = 12;
    uint256 public constant REF_BYTES_MAX = 64;
    uint256 public constant REASON_BYTES_MAX = 35;
    uint256 public constant REFERENCE_BYTES_MAX = 64;
    /// Token amounts carry at most this many decimals (ERC-20 tokens use 0 to 18).
    uint8 public constant DECIMALS_MAX = 36;

    struct Request {
        uint256 amount;
        uint8 decimals;
        string currency;
        string debtorRef;
        string creditorRef;
        /// The block that included the request; 0 means "no such request".
        uint64 requestedInBlock;
    }

    struct Outcome {
        /// 0 means "no outcome yet".
        uint8 status;
        string reasonCode;
        string counterpartyRef;
        /// SHA-256 of the counterparty's confirmation, byte for byte as the gateway journaled it.
        bytes32 evidence;
        uint64 recordedInBlock;
    }

    struct Correction {
        /// 0 means "no correction".
        uint8 status;
        string reasonCode;
        string counterpartyRef;
        /// SHA-256 of the evidence (the statement entry or the return message) as journaled.
        bytes32 evidence;
        uint64 recordedInBlock;
    }

    struct RefundRequest {
        /// The settlement's outcome the refund is about; 0 means "no refund requested".
        uint8 status;
        /// In the request's decimals.
        uint256 amount;
        /// Why: the reconciliation break's kind.
        string reasonCode;
        /// The break's reference.
        string breakRef;
        /// SHA-256 of the break's evidence as the gateway holds it.
        bytes32 evidence;
        uint64 recordedInBlock;
    }

    address public immutable operator;
    address public immutable gateway;

    mapping(bytes32 => Request) private requests;
    mapping(bytes32 => Outcome) private outcomes;
    mapping(bytes32 => Correction) private corrections;
    mapping(bytes32 => RefundRequest) private refunds;

    event SettlementRequested(
        bytes32 indexed id,
        uint256 amount,
        uint8 decimals,
        string currency,
        string debtorRef,
        string creditorRef
    );

    event SettlementOutcome(
        bytes32 indexed id,
        uint8 indexed status,
        string reasonCode,
        string counterpartyRef,
        bytes32 evidence
    );

    event SettlementCorrected(
        bytes32 indexed id,
        uint8 indexed previousStatus,
        uint8 indexed status,
        string reasonCode,
        string counterpartyRef,
        bytes32 evidence
    );

    event RefundRequested(
        bytes32 indexed id,
        uint8 indexed status,
        uint256 amount,
        string reasonCode,
        string breakRef,
        bytes32 evidence
    );

    error ZeroAddress();
    error NotOperator(address caller);
    error NotGateway(address caller);
    error ZeroId();
    error ZeroAmount(bytes32 id);
    error DecimalsTooLarge(bytes32 id, uint8 decimals);
    error FieldLength(bytes32 id, string field, uint256 length, uint256 lengthMax);
    error AlreadyRequested(bytes32 id);
    error UnknownSettlement(bytes32 id);
    error InvalidStatus(bytes32 id, uint8 status);
    error OutcomeAlreadyRecorded(bytes32 id, uint8 status);
    error NoOutcome(bytes32 id);
    error NotCorrectable(bytes32 id, uint8 recorded, uint8 status);
    error CorrectionAlreadyRecorded(bytes32 id, uint8 status);
    error RefundAlreadyRequested(bytes32 id, uint256 amount);
    error OutcomeMismatch(bytes32 id, uint8 recorded, uint8 status);

    /// @param operator_ who may request settlements; the zero address means the deployer.
    /// @param gateway_ the only address that may record outcomes.
    constructor(address operator_, address gateway_) {
        if (gateway_ == address(0)) revert ZeroAddress();
        operator = operator_ == address(0) ? msg.sender : operator_;
        gateway = gateway_;
    }

    function requestSettlement(
        bytes32 id,
        uint256 amount,
        uint8 decimals,
        string calldata currency,
        string calldata debtorRef,
        string calldata creditorRef
    ) external {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        if (id == bytes32(0)) revert ZeroId();
        if (requests[id].requestedInBlock != 0) revert AlreadyRequested(id);
        if (amount == 0) revert ZeroAmount(id);
        if (decimals > DECIMALS_MAX) revert DecimalsTooLarge(id, decimals);
        checkLength(id, "currency", bytes(currency).length, 1, CURRENCY_BYTES_MAX);
        checkLength(id, "debtorRef", bytes(debtorRef).length, 1, REF_BYTES_MAX);
        checkLength(id, "creditorRef", bytes(creditorRef).length, 1, REF_BYTES_MAX);

        requests[id] = Request(amount, decimals, currency, debtorRef, creditorRef, uint64(block.number));
        emit SettlementRequested(id, amount, decimals, currency, debtorRef, creditorRef);
    }

    function recordOutcome(
        bytes32 id,
        uint8 status,
        string calldata reasonCode,
        string calldata counterpartyRef,
        bytes32 evidence
    ) external {
        if (msg.sender != gateway) revert NotGateway(msg.sender);
        if (requests[id].requestedInBlock == 0) revert UnknownSettlement(id);
        uint8 recorded = outcomes[id].status;
        if (recorded != 0) revert OutcomeAlreadyRecorded(id, recorded);
        if (status == 0 || status > STATUS_UNROUTABLE) revert InvalidStatus(id, status);
        checkLength(id, "reasonCode", bytes(reasonCode).length, 0, REASON_BYTES_MAX);
        checkLength(id, "counterpartyRef", bytes(counterpartyRef).length, 0, REFERENCE_BYTES_MAX);

        outcomes[id] = Outcome(status, reasonCode, counterpartyRef, evidence, uint64(block.number));
        emit SettlementOutcome(id, status, reasonCode, counterpartyRef, evidence);
    }

    /// Appends a correction to a recorded outcome: only `settled` corrected to `returned`
    /// (the one correction a statement can establish), once.
    function recordCorrection(
        bytes32 id,
        uint8 status,
        string calldata reasonCode,
        string calldata counterpartyRef,
        bytes32 evidence
    ) external {
        if (msg.sender != gateway) revert NotGateway(msg.sender);
        uint8 recorded = outcomes[id].status;
        if (recorded == 0) revert NoOutcome(id);
        uint8 corrected = corrections[id].status;
        if (corrected != 0) revert CorrectionAlreadyRecorded(id, corrected);
        if (recorded != STATUS_SETTLED || status != STATUS_RETURNED) {
            revert NotCorrectable(id, recorded, status);
        }
        checkLength(id, "reasonCode", bytes(reasonCode).length, 0, REASON_BYTES_MAX);
        checkLength(id, "counterpartyRef", bytes(counterpartyRef).length, 0, REFERENCE_BYTES_MAX);

        corrections[id] = Correction(status, reasonCode, counterpartyRef, evidence, uint64(block.number));
        emit SettlementCorrected(id, recorded, status, reasonCode, counterpartyRef, evidence);
    }

    /// Records that reconciliation asks the operator to refund `amount` (in the request's
    /// decimals) of the settlement `id`, whose recorded outcome is `status`; once.
    function requestRefund(
        bytes32 id,
        uint8 status,
        uint256 amount,
        string calldata reasonCode,
        string calldata breakRef,
        bytes32 evidence
    ) external {
        if (msg.sender != gateway) revert NotGateway(msg.sender);
        uint8 recorded = outcomes[id].status;
        if (recorded == 0) revert NoOutcome(id);
        if (recorded != status) revert OutcomeMismatch(id, recorded, status);
        if (refunds[id].status != 0) revert RefundAlreadyRequested(id, refunds[id].amount);
        if (amount == 0) revert ZeroAmount(id);
        checkLength(id, "reasonCode", bytes(reasonCode).length, 1, REASON_BYTES_MAX);
        checkLength(id, "breakRef", bytes(breakRef).length, 1, REFERENCE_BYTES_MAX);

        refunds[id] = RefundRequest(status, amount, reasonCode, breakRef, evidence, uint64(block.number));
        emit RefundRequested(id, status, amount, reasonCode, breakRef, evidence);
    }

    /// The request for `id`; `requestedInBlock` is 0 when there is none.
    function getRequest(bytes32 id) external view returns (Request memory) {
        return requests[id];
    }

    /// The outcome for `id`; `status` is 0 when none has been recorded.
    function getOutcome(bytes32 id) external view returns (Outcome memory) {
        return outcomes[id];
    }

    /// The correction of `id`'s outcome; `status` is 0 when there is none.
    function getCorrection(bytes32 id) external view returns (Correction memory) {
        return corrections[id];
    }

    /// The refund request for `id`; `status` is 0 when there is none.
    function getRefundRequest(bytes32 id) external view returns (RefundRequest memory) {
        return refunds[id];
    }

    function checkLength(bytes32 id, string memory field, uint256 length, uint256 lengthMin, uint256 lengthMax)
        private
        pure
    {
        if (length < lengthMin || length > lengthMax) revert FieldLength(id, field, length, lengthMax);
    }
}
