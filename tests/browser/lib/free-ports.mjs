// Prints N free TCP ports on 127.0.0.1 (the server takes a fixed --addr, so we pick them first).
import { createServer } from 'node:net';

const count = Number(process.argv[2] || 1);
const servers = [];
const ports = [];
for (let i = 0; i < count; i++) {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  ports.push(server.address().port);
}
for (const server of servers) server.close();
console.log(ports.join(' '));
