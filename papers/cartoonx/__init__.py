"""CartoonX (Kolek et al., 2022): rate-distortion explanations in the wavelet domain."""
