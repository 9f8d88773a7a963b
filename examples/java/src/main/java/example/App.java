package example;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** A small HTTP server: `/` answers with Message.TEXT, `/static/NAME` serves a page. */
public final class App {
  private static final Path PUBLIC = Path.of("src/main/resources/public");

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getPath();
      int status = 200;
      byte[] body;
      if (path.equals("/")) {
        body = (Message.TEXT + "\n").getBytes(StandardCharsets.UTF_8);
      } else if (path.startsWith("/static/") && !path.contains("..")) {
        // Pages are read from the source tree on each request, as a dev
        // server does: a synced page is live at once, a deleted one is gone.
        Path file = PUBLIC.resolve(path.substring("/static/".length()));
        if (Files.isRegularFile(file)) {
          body = Files.readAllBytes(file);
        } else {
          status = 404;
          body = "not found\n".getBytes(StandardCharsets.UTF_8);
        }
      } else {
        status = 404;
        body = "not found\n".getBytes(StandardCharsets.UTF_8);
      }
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    System.out.println("listening on " + port);
  }
}
