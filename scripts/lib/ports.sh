# Test ports (sourced). A test binds port 0 and reads the bound port back
# wherever the program under test can report it (httpkit-server prints
# "listen at ADDR:PORT"; tests/peers/lib.sh and peerlib.py read it). For a
# program that cannot (nginx, haproxy, the small Python helpers that take a
# port), low_free_port picks one below the kernel's ephemeral range
# (32768-60999, net.ipv4.ip_local_port_range): inside that range an outgoing
# connection of any program may hold the port without listening, which the
# probe below cannot see, and a test failed once that way.

# low_free_port: a loopback port in 10000-29999 that nobody listens on.
low_free_port() {
  local p
  while :; do
    p=$((10000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}
