// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Bls12381} from "./Bls12381.sol";
import {IDacnetRegistryRecords} from "./IDacnetRegistry.sol";
import {MemberTree} from "./MemberTree.sol";
import {RegistryFormats} from "./RegistryFormats.sol";

/**
 * @title dacnet's committee registry (docs/PROTOCOL.md §4.1–4.3).
 * @notice Stake, member registrations (BLS key checked with its proof of possession), sequencers, thresholds,
 * retention, unbonding, and the committee of every epoch as records of committee-summary hashes.
 * @dev A change made in epoch E takes effect from epoch E + 1: the first change to the committee in an epoch
 * archives the live committee (if it has members) before applying. The live committee is kept as record
 * `_recordCount` so that the verifier finds any committee with two storage reads.
 */
contract DacnetRegistry is IDacnetRegistryRecords, Ownable {
    using SafeERC20 for IERC20;
    using MemberTree for MemberTree.Tree;

    /// The bitmap and the member tree index members with u16 positions: at most 2^16 of them.
    uint256 public constant MAX_MEMBERS = 65536;
    uint256 private constant OPEN_END = type(uint64).max;
    /// Largest retention: 2^53 − 1 s, the largest whole number every off-chain reader holds exactly.
    uint64 private constant MAX_RETENTION_SECONDS = 2 ** 53 - 1;
    /// "dacnet/proof-of-possession/v1", the preimage tag of §2.6.
    bytes private constant POP_TAG = "dacnet/proof-of-possession/v1";

    /// A member's registration; `stake` is never 0 while registered, so it doubles as the membership flag.
    struct Member {
        uint32 index;
        uint128 xHi;
        uint128 yHi;
        uint256 xLo;
        uint256 yLo;
        uint256 stake;
        bytes peerId;
    }

    /// Committee of epochs fromEpoch..toEpoch; toEpoch 0: no committee at this index.
    struct Record {
        bytes32 summaryHash;
        uint64 fromEpoch;
        uint64 toEpoch;
    }

    struct Unbonding {
        uint256 amount;
        uint64 lastServedEpoch;
        /// 0 until the first withdraw() after lastServedEpoch + 1 began fixes it.
        uint64 releaseAt;
        /// retentionSeconds as it was when the entry was (last) unstaked into.
        uint64 retentionSeconds;
    }

    /// q and f, each in lowest terms (0 as 0/1).
    struct Thresholds {
        uint64 qNum;
        uint64 qDen;
        uint64 fNum;
        uint64 fDen;
    }

    IERC20 public immutable token;
    uint32 public immutable networkId;
    uint256 public immutable genesisBlock;
    uint256 public immutable epochBlocks;
    uint32 public immutable maxMembers;

    Thresholds private _thresholds;
    uint64 public retentionSeconds;
    /// retentionSeconds as it was when the current epoch began: what its committee serves under (a change counts
    /// from the next epoch, as the events' readers apply it).
    uint64 private _retentionInForce;
    uint256 public minStake;

    uint32 private _memberCount;
    uint256 private _totalStake;
    bytes32 private _root;
    /// Aggregate key: x's and y's first 16 bytes (xHi << 128 | yHi), then their last 32 bytes.
    uint256 private _aggHi;
    uint256 private _aggXLo;
    uint256 private _aggYLo;
    MemberTree.Tree private _tree;
    mapping(address operator => Member) private _members;
    mapping(uint256 index => address operator) private _operators;
    /// keccak256(x) of every key ever registered: a key and its negation share x.
    mapping(bytes32 keyX => bool) private _keyUsed;
    mapping(bytes32 peerIdHash => bool) private _peerIdInUse;

    uint256 private _recordCount;
    mapping(uint256 index => Record) private _records;
    mapping(uint64 epoch => uint64 timestamp) private _epochStartTime;
    mapping(address operator => Unbonding) private _unbonding;

    bytes[] private _sequencers;
    mapping(bytes32 peerIdHash => uint256 slot) private _sequencerSlot; // index + 1

    event MemberRegistered(
        address indexed operator,
        uint32 index,
        bytes publicKey,
        bytes proofOfPossession,
        bytes peerId,
        string[] multiaddrs,
        uint256 stake
    );
    event StakeChanged(address indexed operator, uint32 index, uint256 stake);
    event MemberLeft(address indexed operator, uint32 index, uint32 movedFrom);
    event MultiaddrsChanged(address indexed operator, string[] multiaddrs);
    event ThresholdsChanged(uint64 qNum, uint64 qDen, uint64 fNum, uint64 fDen);
    event RetentionChanged(uint64 retentionSeconds);
    event MinStakeChanged(uint256 minStake);
    event SequencerAdded(bytes peerId);
    event SequencerRemoved(bytes peerId);
    event UnbondingStarted(address indexed operator, uint256 amount, uint64 lastServedEpoch);
    event Withdrawn(address indexed operator, uint256 amount);
    event CommitteeArchived(uint32 indexed record, bytes32 summary, uint64 fromEpoch, uint64 toEpoch);

    error InvalidConfiguration();
    error AlreadyRegistered();
    error NotAMember();
    error CommitteeFull();
    error StakeBelowMinimum();
    error ZeroAmount();
    error AmountAboveStake();
    error InvalidKey();
    error InvalidProofOfPossession();
    error KeyAlreadyUsed();
    error PeerIdAlreadyUsed();
    error InvalidThresholds();
    error InvalidRetention();
    error SequencerAlreadyAdded();
    error UnknownSequencer();
    error UnknownEpoch(uint64 epoch);
    error UnknownRecord(uint256 index);
    error UnknownMember(uint256 index);
    error PrecompileFailed();

    constructor(
        IERC20 token_,
        uint32 networkId_,
        uint64 epochBlocks_,
        uint256 minStake_,
        uint32 maxMembers_,
        uint64 retentionSeconds_
    ) Ownable(msg.sender) {
        if (address(token_) == address(0) || epochBlocks_ == 0 || maxMembers_ == 0 || maxMembers_ > MAX_MEMBERS) {
            revert InvalidConfiguration();
        }
        token = token_;
        networkId = networkId_;
        genesisBlock = block.number;
        epochBlocks = epochBlocks_;
        maxMembers = maxMembers_;
        minStake = minStake_;
        _checkRetention(retentionSeconds_);
        retentionSeconds = retentionSeconds_;
        _thresholds = Thresholds(2, 3, 1, 3);
        _touchEpoch();
        _endCommitteeChange();
        // The starting settings as events too: an off-chain reader rebuilds every epoch from the log alone.
        emit ThresholdsChanged(2, 3, 1, 3);
        emit RetentionChanged(retentionSeconds_);
        emit MinStakeChanged(minStake_);
    }

    // ----------------------------------------------------------------------------------------------------
    // Members

    /**
     * @notice Joins the committee from the account that owns the stake (approve the registry for `stake` first).
     * @param publicKey 48-byte compressed G1 key; publicKeyY its y, 48 bytes big-endian.
     * @param proofOfPossession 96-byte compressed G2 proof of §2.6; proofY its y as y.c1 ‖ y.c0.
     */
    function register(
        bytes memory publicKey,
        bytes memory publicKeyY,
        bytes memory proofOfPossession,
        bytes memory proofY,
        bytes memory peerId,
        string[] memory multiaddrs,
        uint256 stake
    ) external {
        uint64 epoch = _touchEpoch();
        if (_members[msg.sender].stake != 0) revert AlreadyRegistered();
        if (_memberCount >= maxMembers) revert CommitteeFull();
        if (stake == 0 || stake < minStake) revert StakeBelowMinimum();
        RegistryFormats.checkPeerId(peerId);
        bytes32 peerIdHash = keccak256(peerId);
        if (_peerIdInUse[peerIdHash]) revert PeerIdAlreadyUsed();
        _peerIdInUse[peerIdHash] = true;
        RegistryFormats.checkMultiaddrs(multiaddrs);
        uint256[4] memory key = _checkKeyAndProof(publicKey, publicKeyY, proofOfPossession, proofY);
        _keyUsed[keccak256(abi.encode(key[0], key[1]))] = true;
        _beginCommitteeChange(epoch);
        uint32 index = _addMember(key, stake, peerId);
        _endCommitteeChange();
        emit MemberRegistered(msg.sender, index, publicKey, proofOfPossession, peerId, multiaddrs, stake);
        token.safeTransferFrom(msg.sender, address(this), stake);
    }

    /// @notice Adds `amount` to the caller's stake (approve the registry first).
    function addStake(uint256 amount) external {
        uint64 epoch = _touchEpoch();
        Member storage member = _memberOfSender();
        if (amount == 0) revert ZeroAmount();
        _beginCommitteeChange(epoch);
        uint256 stake = member.stake + amount;
        _setStake(member, stake);
        _totalStake += amount;
        _endCommitteeChange();
        emit StakeChanged(msg.sender, member.index, stake);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /**
     * @notice Lowers the caller's stake by `amount`; what remains must be 0 (the member leaves) or at least
     * minStake. The amount unbonds: see withdraw().
     */
    function unstake(uint256 amount) external {
        uint64 epoch = _touchEpoch();
        Member storage member = _memberOfSender();
        uint256 stake = member.stake;
        if (amount == 0) revert ZeroAmount();
        if (amount > stake) revert AmountAboveStake();
        uint256 remaining = stake - amount;
        if (remaining != 0 && remaining < minStake) revert StakeBelowMinimum();
        _beginCommitteeChange(epoch);
        _totalStake -= amount;
        if (remaining == 0) {
            _removeMember(member);
        } else {
            _setStake(member, remaining);
            emit StakeChanged(msg.sender, member.index, remaining);
        }
        _endCommitteeChange();
        Unbonding storage entry = _unbonding[msg.sender];
        uint256 total = entry.amount + amount;
        entry.amount = total;
        entry.lastServedEpoch = epoch;
        entry.releaseAt = 0;
        // The epoch's committee serves under the retention in force when it began; a change made since counts only
        // from the next epoch. The lock takes the longer of the two.
        uint64 inForce = _retentionInForce;
        entry.retentionSeconds = retentionSeconds > inForce ? retentionSeconds : inForce;
        emit UnbondingStarted(msg.sender, total, epoch);
    }

    /**
     * @notice Pays out the caller's unbonding entry once retentionSeconds have passed since the epoch after its
     * last served epoch began; returns the amount paid, 0 while locked (never reverts for a lock).
     */
    function withdraw() external returns (uint256 paid) {
        uint64 epoch = _touchEpoch();
        Unbonding storage entry = _unbonding[msg.sender];
        uint256 amount = entry.amount;
        if (amount == 0) return 0;
        uint256 releaseAt = entry.releaseAt;
        if (releaseAt == 0) {
            uint64 next = entry.lastServedEpoch + 1;
            if (epoch < next) return 0;
            // Recorded by the first transaction of epoch `next` (this one, if it is that); else now, which
            // is later than the real start, so the lock only ever lasts longer.
            uint256 start = _epochStartTime[next];
            if (start == 0) start = block.timestamp;
            releaseAt = start + entry.retentionSeconds;
            if (releaseAt > OPEN_END) releaseAt = OPEN_END;
            entry.releaseAt = uint64(releaseAt);
        }
        if (block.timestamp < releaseAt) return 0;
        delete _unbonding[msg.sender];
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
        return amount;
    }

    /// @notice Replaces the caller's multiaddrs (kept in the event log only).
    function setMultiaddrs(string[] memory multiaddrs) external {
        _touchEpoch();
        _memberOfSender();
        RegistryFormats.checkMultiaddrs(multiaddrs);
        emit MultiaddrsChanged(msg.sender, multiaddrs);
    }

    // ----------------------------------------------------------------------------------------------------
    // Governance

    /// @notice Sets q = qNum/qDen and f = fNum/fDen with 0 <= f < q <= 1 (stored in lowest terms, 0 as 0/1).
    function setThresholds(uint64 qNum, uint64 qDen, uint64 fNum, uint64 fDen) external onlyOwner {
        uint64 epoch = _touchEpoch();
        if (qDen == 0 || fDen == 0 || qNum > qDen || uint256(fNum) * qDen >= uint256(qNum) * fDen) {
            revert InvalidThresholds();
        }
        (qNum, qDen) = _lowestTerms(qNum, qDen);
        (fNum, fDen) = _lowestTerms(fNum, fDen);
        _beginCommitteeChange(epoch);
        _thresholds = Thresholds(qNum, qDen, fNum, fDen);
        _endCommitteeChange();
        emit ThresholdsChanged(qNum, qDen, fNum, fDen);
    }

    /// @notice Sets the retention, 1 s to 2^53 − 1 s; it applies from the next epoch.
    function setRetention(uint64 seconds_) external onlyOwner {
        _checkRetention(seconds_);
        _touchEpoch();
        retentionSeconds = seconds_;
        emit RetentionChanged(seconds_);
    }

    function setMinStake(uint256 minStake_) external onlyOwner {
        _touchEpoch();
        minStake = minStake_;
        emit MinStakeChanged(minStake_);
    }

    function addSequencer(bytes memory peerId) external onlyOwner {
        _touchEpoch();
        RegistryFormats.checkPeerId(peerId);
        bytes32 h = keccak256(peerId);
        if (_sequencerSlot[h] != 0) revert SequencerAlreadyAdded();
        _sequencers.push(peerId);
        _sequencerSlot[h] = _sequencers.length;
        emit SequencerAdded(peerId);
    }

    function removeSequencer(bytes memory peerId) external onlyOwner {
        _touchEpoch();
        bytes32 h = keccak256(peerId);
        uint256 slot = _sequencerSlot[h];
        if (slot == 0) revert UnknownSequencer();
        uint256 last = _sequencers.length;
        if (slot != last) {
            bytes memory moved = _sequencers[last - 1];
            _sequencers[slot - 1] = moved;
            _sequencerSlot[keccak256(moved)] = slot;
        }
        _sequencers.pop();
        delete _sequencerSlot[h];
        emit SequencerRemoved(peerId);
    }

    /// Ownership changes are registry transactions too: they record the epoch's start like every other.
    function transferOwnership(address newOwner) public override onlyOwner {
        _touchEpoch();
        super.transferOwnership(newOwner);
    }

    function renounceOwnership() public override onlyOwner {
        _touchEpoch();
        super.renounceOwnership();
    }

    // ----------------------------------------------------------------------------------------------------
    // Views

    /// @notice The epoch of the current block: ⌊(block − genesisBlock) / epochBlocks⌋.
    function currentEpoch() public view returns (uint64) {
        return uint64((block.number - genesisBlock) / epochBlocks);
    }

    /// @notice The timestamp of the first registry transaction seen in `epoch` (0 if none).
    function epochStartTime(uint64 epoch) external view returns (uint64) {
        return _epochStartTime[epoch];
    }

    function committeeRecordCount() external view returns (uint256) {
        return _recordCount;
    }

    /// @notice Record i; i = committeeRecordCount() is the live committee (toEpoch 2^64 − 1).
    function committeeRecord(uint256 i) external view returns (bytes32 summaryHash, uint64 fromEpoch, uint64 toEpoch) {
        uint256 count = _recordCount;
        if (i > count) revert UnknownRecord(i);
        Record storage r = _records[i];
        return (r.summaryHash, r.fromEpoch, i == count ? uint64(OPEN_END) : r.toEpoch);
    }

    /// @inheritdoc IDacnetRegistryRecords
    function recordAt(uint256 i) external view returns (bytes32 summaryHash, uint64 fromEpoch, uint64 toEpoch) {
        Record storage r = _records[i];
        return (r.summaryHash, r.fromEpoch, r.toEpoch);
    }

    /// @notice The record that holds `epoch`; reverts UnknownEpoch for an epoch with no committee or in the future.
    function committeeFor(uint64 epoch) external view returns (uint256 recordIndex, bytes32 summaryHash) {
        if (epoch > currentEpoch()) revert UnknownEpoch(epoch);
        uint256 count = _recordCount;
        Record storage live = _records[count];
        if (live.toEpoch != 0 && epoch >= live.fromEpoch) return (count, live.summaryHash);
        // Archived records cover increasing, disjoint ranges: find the last one starting at or before epoch.
        uint256 lo = 0;
        uint256 hi = count;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (_records[mid].fromEpoch <= epoch) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0 || _records[lo - 1].toEpoch < epoch) revert UnknownEpoch(epoch);
        return (lo - 1, _records[lo - 1].summaryHash);
    }

    /// @notice The live committee's 196-byte summary (§4.3).
    function committeeSummary() public view returns (bytes memory) {
        Thresholds memory t = _thresholds;
        uint256 aggHi = _aggHi;
        return abi.encodePacked(
            _memberCount,
            _totalStake,
            _root,
            bytes16(uint128(aggHi >> 128)),
            _aggXLo,
            bytes16(uint128(aggHi)),
            _aggYLo,
            t.qNum,
            t.qDen,
            t.fNum,
            t.fDen
        );
    }

    function memberCount() external view returns (uint32) {
        return _memberCount;
    }

    function totalStake() external view returns (uint256) {
        return _totalStake;
    }

    function membersRoot() external view returns (bytes32) {
        return _root;
    }

    /// @notice The sum of the live members' keys, x ‖ y (96 bytes; zeros for infinity).
    function aggregateKey() external view returns (bytes memory) {
        uint256 aggHi = _aggHi;
        return abi.encodePacked(bytes16(uint128(aggHi >> 128)), _aggXLo, bytes16(uint128(aggHi)), _aggYLo);
    }

    function thresholds() external view returns (uint64 qNum, uint64 qDen, uint64 fNum, uint64 fDen) {
        Thresholds memory t = _thresholds;
        return (t.qNum, t.qDen, t.fNum, t.fDen);
    }

    /// @notice Live member `index`: its operator, compressed key and y (as register() takes them), stake, peer id.
    function memberAt(uint256 index)
        external
        view
        returns (address operator, bytes memory publicKey, bytes memory publicKeyY, uint256 stake, bytes memory peerId)
    {
        if (index >= _memberCount) revert UnknownMember(index);
        operator = _operators[index];
        Member storage member = _members[operator];
        uint256 flags = Bls12381.isLarge(member.yHi, member.yLo) ? 0xa0 : 0x80;
        publicKey = abi.encodePacked(bytes16(uint128(member.xHi | (flags << 120))), member.xLo);
        publicKeyY = abi.encodePacked(bytes16(member.yHi), member.yLo);
        return (operator, publicKey, publicKeyY, member.stake, member.peerId);
    }

    /// @notice Whether `operator` is a live member, with its index and stake.
    function memberOf(address operator) external view returns (bool registered, uint32 index, uint256 stake) {
        Member storage member = _members[operator];
        return (member.stake != 0, member.index, member.stake);
    }

    function unbonding(address operator) external view returns (uint256 amount, uint64 lastServedEpoch, uint64 releaseAt) {
        Unbonding storage entry = _unbonding[operator];
        return (entry.amount, entry.lastServedEpoch, entry.releaseAt);
    }

    function sequencers() external view returns (bytes[] memory) {
        return _sequencers;
    }

    function isSequencer(bytes calldata peerId) external view returns (bool) {
        return _sequencerSlot[keccak256(peerId)] != 0;
    }

    // ----------------------------------------------------------------------------------------------------
    // Internals

    /// The current epoch, recording its start time if this is the first registry transaction seen in it.
    /// Also takes the retention in force for the epoch then: the setting as the epoch began.
    function _touchEpoch() private returns (uint64 epoch) {
        epoch = currentEpoch();
        if (_epochStartTime[epoch] == 0) {
            _epochStartTime[epoch] = uint64(block.timestamp);
            _retentionInForce = retentionSeconds;
        }
    }

    function _checkRetention(uint64 seconds_) private pure {
        if (seconds_ == 0 || seconds_ > MAX_RETENTION_SECONDS) revert InvalidRetention();
    }

    function _memberOfSender() private view returns (Member storage member) {
        member = _members[msg.sender];
        if (member.stake == 0) revert NotAMember();
    }

    /// Before a committee change in `epoch`: the first change of an epoch archives the live committee.
    function _beginCommitteeChange(uint64 epoch) private {
        uint256 count = _recordCount;
        Record storage live = _records[count];
        if (live.fromEpoch > epoch) return; // already changed in this epoch
        if (_memberCount != 0) {
            live.toEpoch = epoch;
            emit CommitteeArchived(uint32(count), live.summaryHash, live.fromEpoch, epoch);
            _recordCount = ++count;
        }
        _records[count].fromEpoch = epoch + 1;
    }

    /// After a committee change: the live record gets the new summary hash (and no committee while empty).
    function _endCommitteeChange() private {
        Record storage live = _records[_recordCount];
        live.summaryHash = keccak256(committeeSummary());
        live.toEpoch = _memberCount == 0 ? 0 : uint64(OPEN_END);
    }

    /// Appends the caller as member m: its leaf, the tree path above it, total stake and aggregate key.
    function _addMember(uint256[4] memory key, uint256 stake, bytes memory peerId) private returns (uint32) {
        uint256 m = _memberCount;
        Member storage member = _members[msg.sender];
        member.index = uint32(m);
        member.xHi = uint128(key[0]);
        member.xLo = key[1];
        member.yHi = uint128(key[2]);
        member.yLo = key[3];
        member.stake = stake;
        member.peerId = peerId;
        _operators[m] = msg.sender;
        _memberCount = uint32(m + 1);
        _tree.setLeaf(m, MemberTree.leafHash(key[0], key[1], key[2], key[3], stake));
        _tree.refreshPath(m, m + 1);
        _root = _tree.root(m + 1);
        _totalStake += stake;
        _addToAggregate(key[0], key[1], key[2], key[3]);
        return uint32(m);
    }

    function _setStake(Member storage member, uint256 stake) private {
        member.stake = stake;
        uint256 index = member.index;
        _tree.setLeaf(index, MemberTree.leafHash(member.xHi, member.xLo, member.yHi, member.yLo, stake));
        uint256 m = _memberCount;
        _tree.refreshPath(index, m);
        _root = _tree.root(m);
    }

    /// Swap and pop: the last member takes the leaver's index.
    function _removeMember(Member storage member) private {
        uint256 index = member.index;
        uint256 last = uint256(_memberCount) - 1;
        (uint256 nyHi, uint256 nyLo) = Bls12381.negate(member.yHi, member.yLo);
        _addToAggregate(member.xHi, member.xLo, nyHi, nyLo);
        _peerIdInUse[keccak256(member.peerId)] = false;
        delete _members[msg.sender];
        if (index != last) {
            address moved = _operators[last];
            _operators[index] = moved;
            _members[moved].index = uint32(index);
            _tree.setLeaf(index, _tree.leaf(last));
        }
        delete _operators[last];
        _memberCount = uint32(last);
        if (index != last) _tree.refreshPath(index, last);
        _tree.refreshPath(last, last);
        _root = _tree.root(last);
        emit MemberLeft(msg.sender, uint32(index), uint32(last));
    }

    /// aggregate += (x, y) with G1ADD; subtracting a key is adding its negation (x, p − y).
    function _addToAggregate(uint256 xHi, uint256 xLo, uint256 yHi, uint256 yLo) private {
        uint256 aggHi = _aggHi;
        uint256 aggXLo = _aggXLo;
        uint256 aggYLo = _aggYLo;
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, shr(128, aggHi))
            mstore(add(p, 32), aggXLo)
            mstore(add(p, 64), and(aggHi, 0xffffffffffffffffffffffffffffffff))
            mstore(add(p, 96), aggYLo)
            mstore(add(p, 128), xHi)
            mstore(add(p, 160), xLo)
            mstore(add(p, 192), yHi)
            mstore(add(p, 224), yLo)
            ok := staticcall(gas(), 0x0b, p, 256, p, 128)
            aggHi := or(shl(128, mload(p)), mload(add(p, 64)))
            aggXLo := mload(add(p, 32))
            aggYLo := mload(add(p, 96))
        }
        if (!ok) revert PrecompileFailed();
        _aggHi = aggHi;
        _aggXLo = aggXLo;
        _aggYLo = aggYLo;
    }

    /**
     * Checks the key's encoding (InvalidKey), that its x was never registered (KeyAlreadyUsed), the proof's
     * encoding and the proof itself with one pairing, e(pk, H(m)) · e(−g1, proof) = 1 (InvalidProofOfPossession,
     * or InvalidKey when the precompile refuses the key: off the curve or outside G1).
     */
    function _checkKeyAndProof(bytes memory publicKey, bytes memory publicKeyY, bytes memory proof, bytes memory proofY)
        private
        view
        returns (uint256[4] memory key)
    {
        if (publicKey.length != 48 || publicKeyY.length != 48) revert InvalidKey();
        // Pairing input: (pk, H(m)) at buf, (−g1, proof) at buf + 384; hash scratch after it.
        uint256 size = 768 + Bls12381.HASH_SCRATCH;
        uint256 buf;
        assembly ("memory-safe") {
            buf := mload(0x40)
            mstore(0x40, add(buf, size))
        }
        uint256 flags = Bls12381.g1FromMemory(buf, _dataPtr(publicKey), _dataPtr(publicKeyY));
        if (!Bls12381.checkG1(buf, flags)) revert InvalidKey();
        // key = (x hi, x lo, y hi, y lo): the G1 point's four words as they sit in the pairing input.
        assembly ("memory-safe") {
            mstore(key, mload(buf))
            mstore(add(key, 32), mload(add(buf, 32)))
            mstore(add(key, 64), mload(add(buf, 64)))
            mstore(add(key, 96), mload(add(buf, 96)))
        }
        if (_keyUsed[keccak256(abi.encode(key[0], key[1]))]) revert KeyAlreadyUsed();

        if (proof.length != 96 || proofY.length != 96) revert InvalidProofOfPossession();
        flags = Bls12381.g2FromMemory(buf + 512, _dataPtr(proof), _dataPtr(proofY));
        if (!Bls12381.checkG2(buf + 512, flags)) revert InvalidProofOfPossession();
        Bls12381.storeNegG1(buf + 384);
        bytes32 message = sha256(bytes.concat(POP_TAG, publicKey));
        if (!Bls12381.hashToG2(message, buf + 128, buf + 768)) revert PrecompileFailed();
        (bool ok, bool valid) = Bls12381.pairingCheck(buf, 2, buf + 768);
        if (!ok) {
            // Which point did the precompile refuse? H(m) is valid, so (pk, H(m)) alone tells.
            (bool keyOk,) = Bls12381.pairingCheck(buf, 1, buf + 768);
            if (!keyOk) revert InvalidKey();
        }
        if (!valid) revert InvalidProofOfPossession();
    }

    function _dataPtr(bytes memory b) private pure returns (uint256 p) {
        assembly ("memory-safe") {
            p := add(b, 32)
        }
    }

    function _lowestTerms(uint64 num, uint64 den) private pure returns (uint64, uint64) {
        if (num == 0) return (0, 1);
        uint64 a = num;
        uint64 b = den;
        while (b != 0) (a, b) = (b, a % b);
        return (num / a, den / a);
    }
}
