//! The widget in a real browser (headless Chromium driven by playwright-core).
