import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;

/**
 * The resident compiler of a skaffold-filesync dev image: `filesync
 * java-build` starts it once and sends it each compile, so a synced edit
 * pays for javac's work only, not for a JVM start and javac's warm-up
 * (BENCHMARKS.md, "Java: where a synced edit's time goes"). One file
 * manager is kept across compiles, so the class path's JARs are opened and
 * indexed once (they change only with pom.xml, which rebuilds the image).
 *
 * <p>Protocol, one compile per connection on the Unix socket given as the
 * only argument: the client sends the path of a javac argument file (one
 * argument a line, each a quoted string with backslash escapes) and a
 * newline; the server answers with javac's output, then a last line
 * `exit 0` (compiled) or `exit 1` (errors). Built at package time with
 * `--release 17` (Unix domain sockets are Java 16+); dev images only.
 */
public final class FilesyncCompiler {
  private final JavaCompiler javac;
  private final StandardJavaFileManager files;
  private String classpath;

  private FilesyncCompiler(JavaCompiler javac) {
    this.javac = javac;
    this.files = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws IOException {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) {
      System.err.println("FilesyncCompiler: this JVM has no compiler (a JRE, not a JDK)");
      System.exit(2);
    }
    FilesyncCompiler compiler = new FilesyncCompiler(javac);
    Path socket = Path.of(args[0]);
    Files.deleteIfExists(socket);
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      while (true) {
        try (SocketChannel client = server.accept()) {
          compiler.serve(client);
        } catch (IOException | RuntimeException e) {
          System.err.println("FilesyncCompiler: " + e);
        }
      }
    }
  }

  /** One compile: read the argument file's path, compile, answer. */
  private void serve(SocketChannel client) throws IOException {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
    String argfile = in.readLine();
    if (argfile == null) {
      return;
    }
    StringWriter output = new StringWriter();
    boolean ok = compile(readArguments(Path.of(argfile)), output);
    OutputStream out = Channels.newOutputStream(client);
    out.write(output.toString().getBytes(StandardCharsets.UTF_8));
    out.write(("exit " + (ok ? 0 : 1) + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** `-d` and `-classpath` set the file manager's locations, `*.java` are the sources. */
  private boolean compile(List<String> args, StringWriter output) throws IOException {
    List<String> options = new ArrayList<>();
    List<File> sources = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("-d")) {
        files.setLocation(StandardLocation.CLASS_OUTPUT, List.of(new File(args.get(++i))));
      } else if (a.equals("-classpath")) {
        setClasspath(args.get(++i));
      } else if (a.endsWith(".java") && !a.startsWith("-")) {
        sources.add(new File(a));
      } else {
        options.add(a);
      }
    }
    return javac
        .getTask(output, files, null, options, null, files.getJavaFileObjectsFromFiles(sources))
        .call();
  }

  /** A new class path resets the file manager's; the same one keeps its opened JARs. */
  private void setClasspath(String value) throws IOException {
    if (value.equals(classpath)) {
      return;
    }
    List<File> entries = new ArrayList<>();
    for (String p : value.split(File.pathSeparator)) {
      if (!p.isEmpty()) {
        entries.add(new File(p));
      }
    }
    files.setLocation(StandardLocation.CLASS_PATH, entries);
    classpath = value;
  }

  /** The argument file: one `"…"` string a line, `\\` and `\"` escaped. */
  private static List<String> readArguments(Path argfile) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(argfile, StandardCharsets.UTF_8)) {
      if (line.length() < 2 || !line.startsWith("\"") || !line.endsWith("\"")) {
        continue;
      }
      StringBuilder arg = new StringBuilder();
      for (int i = 1; i < line.length() - 1; i++) {
        char c = line.charAt(i);
        if (c == '\\' && i + 1 < line.length() - 1) {
          c = line.charAt(++i);
        }
        arg.append(c);
      }
      out.add(arg.toString());
    }
    return out;
  }
}
