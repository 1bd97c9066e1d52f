// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "./utils/Test.sol";
import {Deploy} from "../script/Deploy.s.sol";
import {NetworkGenesis} from "../src/NetworkGenesis.sol";
import {BitsTestToken} from "../src/BitsTestToken.sol";

/// @notice The deploy script, in-process, from the committed demo genesis.
contract DeployTest is Test {
    function test_deploysDemoGenesis() public {
        Deploy d = new Deploy();
        Deploy.Out memory o = d.deploy(vm.readFile("genesis/demo.json"), address(this));
        NetworkGenesis.Params memory p = o.genesis.params();
        assertEq(p.protocolFeeBps, 200);
        assertEq(p.unlockDelay, 259200);
        assertEq(p.maxPaperTTL, 43200);
        assertEq(uint256(p.split.authorsBps) + p.split.hostersSeedersBps + p.split.relaysBps + p.split.creatorsBps, 10_000);
        assertEq(p.split.relays, 0x90F79bf6EB2c4f870365E785982E1f101E93b906);
        assertEq(p.paymentHub, address(o.hub));
        assertEq(o.genesis.networkId(), keccak256(abi.encode(p)));
        assertEq(BitsTestToken(o.token).balanceOf(address(this)), 1e24);
    }
}
