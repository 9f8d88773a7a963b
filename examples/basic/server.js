// example-basic: the app of the seed's `example-basic` image, in Node.js.
// Every request gets the message of message.js; PORT defaults to 8080.
// It stops on SIGTERM: in a container it may be PID 1, where a signal
// without a handler is ignored (and Kubernetes would wait out the Pod's
// grace period, 30 s, before killing it).
const http = require("http");
const message = require("./message");

const port = Number(process.env.PORT || 8080);

http
  .createServer((req, res) => res.end(message + "\n"))
  .listen(port, () => console.log(`example-basic listening on ${port}`));

process.on("SIGTERM", () => process.exit(0));
