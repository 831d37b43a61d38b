"""The deterministic demo region, calibrated on Zhengzhou's published figures."""
