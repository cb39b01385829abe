"""White-box explanation methods for CNNs, a survey: human-likeness, perturbation, sanity."""
