package dev.headguard.cli;

import dev.headguard.model.io.BuiltinModel;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "models", description = "List the built-in models, where their imported directories live, and the model families HeadGuard reads.")
final class ModelsCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        for (BuiltinModel m : BuiltinModel.values()) {
            System.out.printf("%-10s %s (Maven dev.langchain4j, version %s)%n", m.cliName, m.description, m.artifactVersion());
        }
        System.out.println("cache: " + BuiltinModel.cacheRoot().resolve("models") + " (set HEADGUARD_HOME to move it)");
        System.out.println("families: " + String.join(", ", dev.headguard.model.Family.modelTypes())
                + " (config.json model_type; sequence classifiers or bare encoders, model.safetensors)");
        return 0;
    }
}
