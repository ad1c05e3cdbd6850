/// Fixed-point text of a non-negative number, rounded half up (String(format: "%.2f") without
/// Foundation).
public enum DecimalText {
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite, value >= 0 else { return "0" }
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((value * Double(scale)).rounded())
        let whole = scaled / scale
        guard decimals > 0 else { return String(whole) }
        let fraction = String(scaled % scale)
        return "\(whole)." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
}
