using System.Globalization;
using Prospector.Bench;

// Figures are printed and written with invariant formatting (1,234.5).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// dotnet run -c Release --project bench/Prospector.Bench -- b4 [--steps 100000] [--baseline-jobs 10000] ...
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(B4Options.Usage);
    Console.WriteLine(B8Options.Usage);
    Console.WriteLine(B1Options.Usage);
    Console.WriteLine(R1Options.Usage);
    return 0;
}

if (args[0] == "b8")
{
    try
    {
        return await B8.RunAsync(B8Options.Parse(args[1..]));
    }
    catch (FormatException ex)
    {
        Console.Error.WriteLine($"{ex.Message}\n\n{B8Options.Usage}");
        return 2;
    }
}

if (args[0] == "b1")
{
    try
    {
        return await B1.RunAsync(B1Options.Parse(args[1..]));
    }
    catch (FormatException ex)
    {
        Console.Error.WriteLine($"{ex.Message}\n\n{B1Options.Usage}");
        return 2;
    }
}

if (args[0] == "r1")
{
    try
    {
        return await R1.RunAsync(R1Options.Parse(args[1..]));
    }
    catch (FormatException ex)
    {
        Console.Error.WriteLine($"{ex.Message}\n\n{R1Options.Usage}");
        return 2;
    }
}

if (args[0] != "b4")
{
    Console.Error.WriteLine($"unknown benchmark '{args[0]}'\n\n{B4Options.Usage}");
    return 2;
}

B4Options options;
try
{
    options = B4Options.Parse(args[1..]);
}
catch (FormatException ex)
{
    Console.Error.WriteLine($"{ex.Message}\n\n{B4Options.Usage}");
    return 2;
}

return await B4.RunAsync(options);
