package example;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootVersion;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * `/`: the greeting from the {@link Greeting} bean, with what only Spring
 * produces: the bean's class as the container made it, the Spring Boot
 * version and a value from application.properties. Static files are
 * served from `static/` on the classpath.
 */
@RestController
public class GreetingController {
  private final Greeting greeting;
  private final String name;

  GreetingController(Greeting greeting, @Value("${app.name}") String name) {
    this.greeting = greeting;
    this.name = name;
  }

  @GetMapping(value = "/", produces = "text/plain")
  public String index() {
    return greeting.text()
        + "\nfrom the Spring bean "
        + greeting.getClass().getSimpleName()
        + " of "
        + name
        + ", Spring Boot "
        + SpringBootVersion.getVersion()
        + "\n";
  }
}
