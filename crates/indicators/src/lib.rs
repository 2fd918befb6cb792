//! f64 technical indicators (EMA, ATR, ADX, Bollinger, breadth, dispersion, whipsaw) and candle resampling. Pure.
