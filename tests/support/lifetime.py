"""How the helper daemons (moto, the Secret Service) know when to stop."""
import os
import sys
import time


def serve_until_done(parent):
    """Returns when stdin closes (with --until-stdin-closes: scripts hold a FIFO open)
    or when the parent process exits (test binaries cannot be trusted to clean up)."""
    if "--until-stdin-closes" in sys.argv:
        sys.stdin.read()
        return
    while os.getppid() == parent:
        time.sleep(0.5)


def serve_on_loopback(handler):
    """Serves `handler` on 127.0.0.1 (::1 with --ipv6; a free port, printed first) from
    threads, until `serve_until_done` says the parent is done."""
    import socket
    import socketserver
    import threading

    ipv6 = "--ipv6" in sys.argv

    class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
        daemon_threads = True
        allow_reuse_address = True
        address_family = socket.AF_INET6 if ipv6 else socket.AF_INET

    parent = os.getppid()
    server = Server(("::1" if ipv6 else "127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    serve_until_done(parent)
    server.shutdown()
