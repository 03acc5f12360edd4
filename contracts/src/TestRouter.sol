// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IERC20Like {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
}

/// @notice A small router with the Uniswap-periphery style batching entry points:
///   multicall(uint256 deadline, bytes[] data)   (selector 0x5ae401dc)
///   multicall(bytes[] data)                     (selector 0xac9650d8)
/// Each element is delegate-called on the router itself (so msg.sender is the original caller);
/// `forward` lets a batch element call another contract. Any failing element reverts the batch
/// with that element's revert data.
contract TestRouter {
    uint256 public counter;
    mapping(address => uint256) public notes;

    event Noted(address indexed who, uint256 value);

    function multicall(uint256 deadline, bytes[] calldata data) external payable returns (bytes[] memory) {
        require(block.timestamp <= deadline, "TestRouter: deadline passed");
        return _run(data);
    }

    function multicall(bytes[] calldata data) external payable returns (bytes[] memory) {
        return _run(data);
    }

    /// Batch element: record a value for the caller.
    function note(uint256 value) external returns (uint256) {
        counter += 1;
        notes[msg.sender] = value;
        emit Noted(msg.sender, value);
        return counter;
    }

    /// Batch element: pull tokens from the caller into the router (needs an allowance).
    function pull(address token, uint256 amount) external {
        require(IERC20Like(token).transferFrom(msg.sender, address(this), amount), "TestRouter: pull failed");
    }

    /// Batch element: send tokens held by the router.
    function sweep(address token, address to, uint256 amount) external {
        require(IERC20Like(token).transfer(to, amount), "TestRouter: sweep failed");
    }

    /// Batch element: call another contract (msg.sender there is the router).
    function forward(address target, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) _bubble(ret);
        return ret;
    }

    function fail(string calldata reason) external pure {
        revert(reason);
    }

    function _run(bytes[] calldata data) internal returns (bytes[] memory results) {
        results = new bytes[](data.length);
        for (uint256 i = 0; i < data.length; i++) {
            (bool ok, bytes memory ret) = address(this).delegatecall(data[i]);
            if (!ok) _bubble(ret);
            results[i] = ret;
        }
    }

    function _bubble(bytes memory ret) private pure {
        if (ret.length == 0) revert("TestRouter: call failed");
        assembly {
            revert(add(ret, 32), mload(ret))
        }
    }
}
