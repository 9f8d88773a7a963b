package example;

import org.springframework.stereotype.Service;

/** The service the controller calls: a Spring bean, injected by the container. */
@Service
public class Greeting {
  public String text() {
    return "Hello from Spring Boot v1";
  }
}
