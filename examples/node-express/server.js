// An express app: `/` answers with lib/message.js and says which express
// served it and where node found it (in the image, node_modules is a link
// to the dependency layer); `/static/<file>` serves public/ with
// express.static (404 when missing).
const express = require("express");
const path = require("path");
const message = require("./lib/message");

const port = Number(process.env.PORT || 8080);
const version = require("express/package.json").version;
const from = path.dirname(require.resolve("express"));
const app = express();

app.get("/", (req, res) => {
  res.type("text/plain").send(`${message}\nserved by express ${version} (route ${req.route.path}) from ${from}\n`);
});
app.use("/static", express.static(path.join(__dirname, "public")));

app.listen(port, () => console.log(`listening on ${port}`));
