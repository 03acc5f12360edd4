"""Route plan nodes to backends by chain and execution type.

Built from a config (YAML/JSON, see docs/runtime.md)::

    chains:
      "eip155:31337": {backend: evm, rpc_url: "http://127.0.0.1:8545", signer: {env: AISC_KEY}}
      "solana:local": {backend: solana, transport: litesvm}
    backends:                                   # optional: extra backends by import path
      myplugin: {factory: "my_pkg.backend:make"}

Backends are constructed lazily (on the first node that needs one) from an import path, so the
EVM and Solana modules are imported only when a plan uses them. A factory is called as
``factory(chain=<caip2>, **chain_config_without_backend_key)`` and must return a
:class:`aisc.backends.base.Backend`. Instances can also be registered directly (tests, fakes).
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Mapping
from typing import Any

from aisc.backends.base import Backend, BackendError

BUILTIN_FACTORIES: dict[str, str] = {
    "evm": "aisc.backends.evm:make_backend",
    "solana": "aisc.backends.solana:make_backend",
    "fake": "aisc.backends.fake:make_backend",
}
_CHAIN = re.compile(r"^(eip155|solana|cosmos|bip122|aptos|sui):[a-zA-Z0-9._-]+$")


class ConfigError(ValueError):
    """A bad backend config. ``path`` is a ``$``-path into the config document."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.message = message
        self.path = path


def _import(path: str) -> Any:
    mod_name, _, attr = path.partition(":")
    if not mod_name or not attr:
        raise ImportError(f"import path {path!r} must look like 'package.module:callable'")
    return getattr(importlib.import_module(mod_name), attr)


class BackendRegistry:
    """Holds backend instances and chain configs; ``for_node`` picks the backend for a node."""

    def __init__(self) -> None:
        self._backends: list[Backend] = []
        self._chain_cfg: dict[str, dict[str, Any]] = {}
        self._factories: dict[str, str] = dict(BUILTIN_FACTORIES)
        self._built: dict[str, Backend] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> BackendRegistry:
        reg = cls()
        if config is None:
            return reg
        if not isinstance(config, Mapping):
            raise ConfigError("the config must be an object with a 'chains' map", "$")
        extra = sorted(set(config) - {"chains", "backends", "extensions"})
        if extra:
            raise ConfigError(f"unknown field '{extra[0]}' (allowed: backends, chains, extensions)", f"$.{extra[0]}")
        backends = config.get("backends") or {}
        if not isinstance(backends, Mapping):
            raise ConfigError("backends must map a name to {factory: 'module:callable'}", "$.backends")
        for name, spec in backends.items():
            if not isinstance(spec, Mapping) or not isinstance(spec.get("factory"), str):
                raise ConfigError("expected {factory: 'module:callable'}", f"$.backends.{name}")
            reg._factories[str(name)] = spec["factory"]
        chains = config.get("chains") or {}
        if not isinstance(chains, Mapping):
            raise ConfigError("chains must map a CAIP-2 chain id to a backend config", "$.chains")
        for chain, cfg in chains.items():
            p = f"$.chains.{chain}"
            if not isinstance(chain, str) or not _CHAIN.match(chain):
                raise ConfigError(f"{chain!r} is not a CAIP-2 chain id (e.g. eip155:31337)", p)
            if not isinstance(cfg, Mapping):
                raise ConfigError("expected an object {backend: evm|solana|..., ...}", p)
            backend = cfg.get("backend")
            if not isinstance(backend, str) or backend not in reg._factories:
                known = ", ".join(sorted(reg._factories))
                raise ConfigError(f"backend must be one of {known}", f"{p}.backend")
            signer = cfg.get("signer")
            if isinstance(signer, str) and re.fullmatch(r"(0x)?[0-9a-fA-F]{64}", signer):
                raise ConfigError(
                    "the config holds a raw private key; refer to it instead (signer: {type: env, var: NAME} or an encrypted keystore file, see docs/evm.md and docs/solana.md)",
                    f"{p}.signer")
            reg._chain_cfg[chain] = dict(cfg)
        return reg

    def register(self, backend: Backend) -> None:
        """Add a ready backend instance; instances are tried in registration order."""
        self._backends.append(backend)

    # ------------------------------------------------------------------ routing

    def _build(self, chain: str) -> Backend | None:
        cfg = self._chain_cfg.get(chain)
        if cfg is None:
            return None
        with self._lock:
            if chain in self._built:
                return self._built[chain]
            name = cfg["backend"]
            try:
                factory = _import(self._factories[name])
            except (ImportError, AttributeError) as e:
                raise BackendError(f"backend {name!r} for {chain} is not available: {e}",
                                   category="validation") from None
            kwargs = {k: v for k, v in cfg.items() if k != "backend"}
            backend: Backend = factory(chain=chain, **kwargs)
            self._built[chain] = backend
            return backend

    def for_node(self, chain: str, execution_type: str) -> Backend:
        """The first backend whose ``supports(chain, type)`` is true; configured chains first."""
        built = self._build(chain)
        candidates: list[Backend] = ([built] if built is not None else []) + self._backends
        for b in candidates:
            if b.supports(chain, execution_type):
                return b
        raise BackendError(f"No executor supports node (chain={chain}, type={execution_type})",
                           category="validation")

    def backends(self) -> list[Backend]:
        return list(self._built.values()) + self._backends

    def close(self) -> None:
        for b in self.backends():
            b.close()
