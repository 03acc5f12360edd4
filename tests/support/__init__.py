"""Test support shared by several test folders and the benchmarks (not shipped).

- :mod:`tests.support.faultproxy`: a loopback JSON-RPC proxy that injects faults per request.
- :mod:`tests.support.chains`: an anvil process with the test token deployed.
"""
