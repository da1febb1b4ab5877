import Foundation

/// The date formats S3 speaks, written and read by hand: SigV4's `20130524T000000Z`, HTTP's RFC 1123
/// `Fri, 24 May 2013 00:00:00 GMT` and XML's ISO 8601 `2013-05-24T00:00:00.000Z`. All are UTC.
enum UTCTimestamp {
    /// Calendar fields of a UTC instant.
    struct Fields: Equatable {
        var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
    }

    static func fields(of date: Date) -> Fields {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        return Fields(
            year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay % 3600 / 60,
            second: secondOfDay % 60)
    }

    static func date(from fields: Fields) -> Date {
        let days = daysFromCivil(year: fields.year, month: fields.month, day: fields.day)
        let seconds = days * 86_400 + fields.hour * 3600 + fields.minute * 60 + fields.second
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// `YYYYMMDDTHHMMSSZ`, the value of `x-amz-date`.
    static func amzDate(_ date: Date) -> String {
        let f = fields(of: date)
        return pad(f.year, 4) + pad(f.month, 2) + pad(f.day, 2) + "T" + pad(f.hour, 2) + pad(f.minute, 2)
            + pad(f.second, 2) + "Z"
    }

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Parses RFC 1123 (`Last-Modified`): `Wed, 12 Oct 2009 17:50:00 GMT`.
    static func parseHTTPDate(_ string: String) -> Date? {
        // Drop the weekday; the rest is "12 Oct 2009 17:50:00 GMT".
        let body = string.split(separator: ",", maxSplits: 1).last.map(String.init) ?? string
        let parts = body.split(separator: " ")
        guard parts.count >= 4, let day = Int(parts[0]), let year = Int(parts[2]),
            let month = monthNames.firstIndex(of: String(parts[1])).map({ $0 + 1 })
        else { return nil }
        let time = parts[3].split(separator: ":")
        guard time.count == 3, let hour = Int(time[0]), let minute = Int(time[1]), let second = Int(time[2]) else {
            return nil
        }
        return date(from: Fields(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    }

    /// Parses ISO 8601 as S3 XML writes it: `2009-10-12T17:50:30.000Z` (fraction optional, dropped).
    static func parseISO8601(_ string: String) -> Date? {
        let bytes = Array(string.utf8)
        guard bytes.count >= 19 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for byte in bytes[from..<from + count] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2)
        else { return nil }
        return date(from: Fields(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, day 0 = 1970-01-01).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
