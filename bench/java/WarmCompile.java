import java.io.File;
import java.util.ArrayList;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;

/**
 * The warm in-process compiler's cost: compiles the given sources with
 * javax.tools N times in one JVM (as a resident compiler does) and prints
 * each compile's milliseconds, first with a new file manager per compile
 * (`javac.run`), then with one file manager kept across compiles (its
 * opened class-path JARs cached). Usage:
 * java WarmCompile.java N CLASSPATH OUTDIR RELEASE SOURCE...
 */
public final class WarmCompile {
  public static void main(String[] args) throws Exception {
    int n = Integer.parseInt(args[0]);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    List<String> options = List.of("--release", args[3], "-g", "-parameters");
    List<File> sources = new ArrayList<>();
    for (int i = 4; i < args.length; i++) sources.add(new File(args[i]));
    List<String> argv = new ArrayList<>(List.of("-cp", args[1], "-d", args[2]));
    argv.addAll(options);
    for (File f : sources) argv.add(f.getPath());
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      int rc = javac.run(null, null, null, argv.toArray(new String[0]));
      System.out.println("run rc=" + rc + " ms=" + (System.nanoTime() - t0) / 1_000_000);
    }
    StandardJavaFileManager fm = javac.getStandardFileManager(null, null, null);
    List<File> cp = new ArrayList<>();
    for (String p : args[1].split(File.pathSeparator)) if (!p.isEmpty()) cp.add(new File(p));
    fm.setLocation(StandardLocation.CLASS_PATH, cp);
    fm.setLocation(StandardLocation.CLASS_OUTPUT, List.of(new File(args[2])));
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      boolean ok = javac.getTask(null, fm, null, options, null, fm.getJavaFileObjectsFromFiles(sources)).call();
      System.out.println("shared ok=" + ok + " ms=" + (System.nanoTime() - t0) / 1_000_000);
    }
  }
}
