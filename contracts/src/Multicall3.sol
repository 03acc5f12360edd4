// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The `aggregate3` entry point of the well-known Multicall3 contract, written for the aisc
/// tests (same ABI: aggregate3((address,bool,bytes)[]) returns ((bool,bytes)[])).
contract Multicall3 {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory results) {
        results = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].callData);
            require(ok || calls[i].allowFailure, "Multicall3: call failed");
            results[i] = Result(ok, ret);
        }
    }

    function getBlockNumber() external view returns (uint256) {
        return block.number;
    }
}
