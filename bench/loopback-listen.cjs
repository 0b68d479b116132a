// Preloaded into mcp-hub (`node --require`) by bench/peers.ts: mcp-hub has no --host option and
// listens on every interface; the bench keeps it on loopback by giving its `listen(port, cb)` a host.
const net = require("node:net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (typeof args[0] === "number" && typeof args[1] !== "string") args.splice(1, 0, "127.0.0.1");
  return listen.apply(this, args);
};
