// The baseline: a bare Node http server answering a small JSON body, no framework.
const http = require("node:http");
const body = JSON.stringify({ code: 0, message: "ok", data: { id: 1, username: "bench", roles: ["customer"] }, traceId: "x" });
http
  .createServer((req, res) => {
    if (req.url === "/health") return res.end("ok");
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    res.end(body);
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
