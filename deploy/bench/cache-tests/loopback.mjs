// Preloaded into the suite's origin server (node --import): its server.listen(port) would bind
// every interface; this harness keeps everything on loopback without patching the suite's code.
import net from 'node:net'

const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (args.length === 1 && (typeof args[0] === 'number' || typeof args[0] === 'string')) {
    return listen.call(this, Number(args[0]), '127.0.0.1')
  }
  return listen.apply(this, args)
}
