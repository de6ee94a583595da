"""Serving the simulator over HTTP with uvicorn, in a background thread or in the current event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import TracebackType

import uvicorn

from .app import build_app
from .state import Simulator

_WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104 - names, not a bind decision


class _Server(uvicorn.Server):
    """uvicorn's server with a main loop that :meth:`wake` can interrupt (so stopping is quick)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    def request_exit(self) -> None:
        """Ask the server to stop (thread-safe)."""
        self.should_exit = True
        loop, wakeup = self._loop, self._wakeup
        if loop is not None and wakeup is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wakeup.set)


class SimulatorServer:
    """Serves a :class:`Simulator` over HTTP.

    ``start()`` binds and listens before returning, so the URL works at once; the server then runs in a
    daemon thread with its own event loop until ``stop()``. ``await serve()`` runs it in the current loop
    instead (until cancelled). Also a context manager: ``with SimulatorServer(sim) as url: ...``.
    """

    def __init__(
        self,
        sim: Simulator,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
        tls: tuple[str, str] | None = None,
    ):
        """``tls``: (certificate file, key file) to serve HTTPS instead (the URL is then ``https://``)."""
        self._app = build_app(sim)
        self.host = host
        self.port = port
        self.log_level = log_level
        self.tls = tls
        self._socket: socket.socket | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def sim(self) -> Simulator:
        """The simulator being served; assigning another one swaps it while serving."""
        return self._app.sim

    @sim.setter
    def sim(self, sim: Simulator) -> None:
        self._app.sim = sim

    @property
    def url(self) -> str:
        """``http://host:port`` of the bound socket (``https://`` with ``tls``)."""
        if self._socket is None:
            raise RuntimeError("the server is not bound yet; call start() or bind()")
        port = self._socket.getsockname()[1]
        host = "127.0.0.1" if self.host in _WILDCARD_HOSTS else self.host
        scheme = "https" if self.tls else "http"
        return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"

    def bind(self) -> str:
        """Bind and listen (idempotent); returns the URL."""
        if self._socket is None:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP,
            # and without it every other response waits ~40 ms for a delayed ACK.
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                sock.bind((self.host, self.port))
                sock.listen(128)
            except OSError:
                sock.close()
                raise
            self._socket = sock
        return self.url

    def start(self) -> str:
        """Serve in a background thread; returns the URL, usable immediately."""
        if self._thread is not None:
            raise RuntimeError("the server is already running")
        url = self.bind()
        self._server = self._make_server()
        self._thread = threading.Thread(target=self._run_in_thread, name="k6-cloud-simulator", daemon=True)
        self._thread.start()
        return url

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and wait for the server thread to finish."""
        server, thread = self._server, self._thread
        if server is not None:
            server.request_exit()
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(timeout)
        self._close_socket()
        self._server = self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError("the simulator server failed") from error

    async def serve(self) -> None:
        """Serve in the current event loop until cancelled."""
        self.bind()
        assert self._socket is not None
        server = self._server = self._make_server()
        try:
            await server.serve(sockets=[self._socket])
        except asyncio.CancelledError:
            server.should_exit = True
            if server.started:
                await server.shutdown(sockets=[self._socket])
            raise
        finally:
            self._close_socket()
            self._server = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _make_server(self) -> _Server:
        config = uvicorn.Config(
            self._app,
            log_level=self.log_level,
            access_log=False,
            lifespan="off",
            proxy_headers=False,
            ws="none",
            timeout_graceful_shutdown=2,
            ssl_certfile=self.tls[0] if self.tls else None,
            ssl_keyfile=self.tls[1] if self.tls else None,
        )
        return _Server(config)

    def _run_in_thread(self) -> None:
        assert self._server is not None and self._socket is not None
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # reported by stop()
            self._error = exc

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
