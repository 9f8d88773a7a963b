// A small HTTP server: `/` answers with lib/message.js, `/static/<file>`
// serves files from public/ (404 when missing).
const http = require("http");
const fs = require("fs");
const path = require("path");
const message = require("./lib/message");

const port = Number(process.env.PORT || 8080);
http
  .createServer((req, res) => {
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
