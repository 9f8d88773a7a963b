// A small HTTP server: `/` answers with lib/message.js, `/static/<file>`
// serves files from public/ (404 when missing), `/starts` lists every start
// of the app in this container (pid, time, and which files of public/ it
// found), so a dev loop can be checked from the app itself: how often a
// save restarted it, and on which files.
const http = require("http");
const fs = require("fs");
const path = require("path");
const message = require("./lib/message");

const port = Number(process.env.PORT || 8080);
const starts = path.join(require("os").tmpdir(), "example-node-starts.log");
const seen = fs.readdirSync(path.join(__dirname, "public")).sort().join(",");
fs.appendFileSync(starts, `${process.pid} ${Date.now()} public=${seen}\n`);

http
  .createServer((req, res) => {
    if (req.url === "/starts") {
      res.end(fs.readFileSync(starts));
      return;
    }
    if (req.url.startsWith("/static/")) {
      const file = path.join(__dirname, "public", path.basename(req.url));
      fs.readFile(file, (err, data) => {
        res.writeHead(err ? 404 : 200);
        res.end(err ? "not found\n" : data);
      });
      return;
    }
    res.end(message + "\n");
  })
  .listen(port, () => console.log(`listening on ${port}`));
