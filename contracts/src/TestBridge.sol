// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IERC20Pull {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @notice Lock-side of a toy EVM → Solana bridge for the cross-chain test: `send` pulls `amount`
/// of `token` from the caller (needs an allowance) and emits `Sent`, which a relayer reads from the
/// receipt logs to release funds on Solana.
contract TestBridge {
    address public immutable token;
    uint256 public totalLocked;

    event Sent(address from, bytes32 solanaRecipient, uint256 amount);

    constructor(address token_) {
        token = token_;
    }

    function send(bytes32 solanaRecipient, uint256 amount) external returns (uint256) {
        require(amount > 0, "TestBridge: zero amount");
        require(solanaRecipient != bytes32(0), "TestBridge: empty recipient");
        require(IERC20Pull(token).transferFrom(msg.sender, address(this), amount), "TestBridge: pull failed");
        totalLocked += amount;
        emit Sent(msg.sender, solanaRecipient, amount);
        return totalLocked;
    }
}
