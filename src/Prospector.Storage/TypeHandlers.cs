using System.Data;
using System.Globalization;
using Dapper;

namespace Prospector.Storage;

/// <summary>
/// Reads Guid and DateTimeOffset the same way on both dialects (native uuid/timestamptz on PostgreSQL, text on SQLite).
/// Dapper writes these built-in types itself, bypassing SetValue: every instant we store must therefore be UTC
/// (Npgsql refuses other offsets for timestamptz; on SQLite, "+00:00" text sorts in time order).
/// </summary>
internal static class TypeHandlers
{
    private static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }

        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.AddTypeHandler(new GuidHandler());
        SqlMapper.AddTypeHandler(new DateTimeOffsetHandler());
    }

    private sealed class GuidHandler : SqlMapper.TypeHandler<Guid>
    {
        // Dapper writes Guid parameters itself; only reading goes through this handler.
        public override void SetValue(IDbDataParameter parameter, Guid value) => parameter.Value = value;

        public override Guid Parse(object value) => value switch
        {
            Guid g => g,
            string s => Guid.Parse(s),
            byte[] b => new Guid(b),
            _ => throw new DataException($"cannot read a Guid from {value.GetType().Name}"),
        };
    }

    private sealed class DateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        // Dapper writes DateTimeOffset parameters itself; only reading goes through this handler.
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value) => parameter.Value = value;

        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTimeOffset d => d,
            DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
            string s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            _ => throw new DataException($"cannot read a DateTimeOffset from {value.GetType().Name}"),
        };
    }
}
